/*
 * Go's reference-time layouts ("2006-01-02T15:04:05Z07:00") for the template functions date, toDate and
 * toDateInZone, in UTC.
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Layout tokens, longest first so that "2006" wins over "2" and "January" over "Jan". */
const TOKENS = [
  'January',
  'Monday',
  '2006',
  '-07:00:00',
  '-07:00',
  'Z07:00',
  '-0700',
  'Z0700',
  'Jan',
  'Mon',
  'MST',
  '002',
  '__2',
  '01',
  '02',
  '_2',
  '15',
  '03',
  '04',
  '05',
  '06',
  'PM',
  'pm',
  '-07',
  'Z07',
  '1',
  '2',
  '3',
  '4',
  '5',
];
const FRACTION = /^[.,](0+|9+)(?![0-9])/;

function tokenize(layout: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < layout.length; ) {
    const frac = FRACTION.exec(layout.slice(i));
    if (frac && /[0-9]/.test(layout[i - 1] ?? '')) {
      out.push(frac[0]);
      i += frac[0].length;
      continue;
    }
    const t = TOKENS.find((k) => layout.startsWith(k, i));
    out.push(t ?? layout[i]!);
    i += t ? t.length : 1;
  }
  return out;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function formatGoLayout(ns: bigint, layout: string): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const frac = Number(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const h = d.getUTCHours();
  return tokenize(layout)
    .map((t) => {
      switch (t) {
        case '2006':
          return pad(d.getUTCFullYear(), 4);
        case '06':
          return pad(d.getUTCFullYear() % 100, 2);
        case 'January':
          return MONTHS[d.getUTCMonth()]!;
        case 'Jan':
          return MONTHS[d.getUTCMonth()]!.slice(0, 3);
        case '01':
          return pad(d.getUTCMonth() + 1, 2);
        case '1':
          return String(d.getUTCMonth() + 1);
        case 'Monday':
          return DAYS[d.getUTCDay()]!;
        case 'Mon':
          return DAYS[d.getUTCDay()]!.slice(0, 3);
        case '02':
          return pad(d.getUTCDate(), 2);
        case '_2':
          return String(d.getUTCDate()).padStart(2, ' ');
        case '2':
          return String(d.getUTCDate());
        case '002':
          return pad(Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1, 3);
        case '15':
          return pad(h, 2);
        case '03':
          return pad(h % 12 === 0 ? 12 : h % 12, 2);
        case '3':
          return String(h % 12 === 0 ? 12 : h % 12);
        case '04':
          return pad(d.getUTCMinutes(), 2);
        case '4':
          return String(d.getUTCMinutes());
        case '05':
          return pad(d.getUTCSeconds(), 2);
        case '5':
          return String(d.getUTCSeconds());
        case 'PM':
          return h >= 12 ? 'PM' : 'AM';
        case 'pm':
          return h >= 12 ? 'pm' : 'am';
        case 'MST':
          return 'UTC';
        case 'Z07:00':
        case 'Z0700':
        case 'Z07':
          return 'Z';
        case '-07:00':
          return '+00:00';
        case '-0700':
          return '+0000';
        case '-07':
          return '+00';
        case '-07:00:00':
          return '+00:00:00';
        default: {
          if (FRACTION.test(t)) {
            const digits = t.length - 1;
            const s = pad(frac, 9).slice(0, digits);
            if (t[1] === '9') {
              const trimmed = s.replace(/0+$/, '');
              return trimmed === '' ? '' : t[0] + trimmed;
            }
            return t[0] + s;
          }
          return t;
        }
      }
    })
    .join('');
}

/** Parses `value` with a Go layout (UTC unless the value has an offset); undefined when it does not fit. */
export function parseGoLayout(layout: string, value: string): bigint | undefined {
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offsetMinutes = 0;
  let i = 0;
  const num = (min: number, max: number): number | undefined => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  for (const t of tokenize(layout)) {
    let v: number | undefined;
    switch (t) {
      case '2006':
        v = num(4, 4);
        year = v ?? year;
        break;
      case '06':
        v = num(2, 2);
        if (v !== undefined) year = v + (v >= 69 ? 1900 : 2000);
        break;
      case '01':
      case '1':
        v = num(t.length, 2);
        month = v ?? month;
        break;
      case 'Jan':
      case 'January': {
        const idx = MONTHS.findIndex((m) => value.startsWith(t === 'Jan' ? m.slice(0, 3) : m, i));
        if (idx < 0) return undefined;
        i += t === 'Jan' ? 3 : MONTHS[idx]!.length;
        month = idx + 1;
        v = 0;
        break;
      }
      case 'Mon':
      case 'Monday': {
        const idx = DAYS.findIndex((dd) => value.startsWith(t === 'Mon' ? dd.slice(0, 3) : dd, i));
        if (idx < 0) return undefined;
        i += t === 'Mon' ? 3 : DAYS[idx]!.length;
        v = 0;
        break;
      }
      case '02':
      case '2':
      case '_2':
        if (t === '_2' && value[i] === ' ') i++;
        v = num(1, 2);
        day = v ?? day;
        break;
      case '15':
        v = num(1, 2);
        hour = v ?? hour;
        break;
      case '03':
      case '3':
        v = num(1, 2);
        hour = v ?? hour;
        break;
      case '04':
      case '4':
        v = num(1, 2);
        minute = v ?? minute;
        break;
      case '05':
      case '5': {
        v = num(1, 2);
        second = v ?? second;
        const frac = /^[.,](\d+)/.exec(value.slice(i));
        if (frac) {
          nanos = Number(frac[1]!.slice(0, 9).padEnd(9, '0'));
          i += frac[0].length;
        }
        break;
      }
      case 'PM':
      case 'pm': {
        const s = value.slice(i, i + 2).toUpperCase();
        if (s !== 'AM' && s !== 'PM') return undefined;
        pm = s === 'PM';
        i += 2;
        v = 0;
        break;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}/.exec(value.slice(i));
        if (!m) return undefined;
        i += m[0].length;
        v = 0;
        break;
      }
      case 'Z07:00':
      case 'Z0700':
      case 'Z07':
      case '-07:00':
      case '-0700':
      case '-07':
      case '-07:00:00': {
        if (t[0] === 'Z' && value[i] === 'Z') {
          i++;
          v = 0;
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})?(?::?\d{2})?/.exec(value.slice(i));
        if (!m) return undefined;
        offsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
        i += m[0].length;
        v = 0;
        break;
      }
      default:
        if (FRACTION.test(t)) {
          const frac = /^[.,](\d+)/.exec(value.slice(i));
          if (frac) {
            nanos = Number(frac[1]!.slice(0, 9).padEnd(9, '0'));
            i += frac[0].length;
          }
          v = 0;
        } else {
          if (!value.startsWith(t, i)) return undefined;
          i += t.length;
          v = 0;
        }
    }
    if (v === undefined) return undefined;
  }
  if (i !== value.length) return undefined;
  if (pm !== undefined) hour = (hour % 12) + (pm ? 12 : 0);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(nanos);
}
