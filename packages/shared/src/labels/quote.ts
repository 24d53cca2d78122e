/**
 * Go's strconv.Quote, which Loki and Prometheus use to print label values: printable characters stay as
 * they are, `"` and `\` are escaped, control characters use \n \t ... or \xNN, other non-printables \uNNNN.
 */
export function goQuote(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x07:
        out += '\\a';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x0b:
        out += '\\v';
        break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else out += ch;
    }
  }
  return out + '"';
}

export class UnquoteError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/**
 * Reads a Go double-quoted string literal starting at `start` (which must hold `"`). Returns the decoded
 * value and the offset just past the closing quote. Handles every escape Go's strconv.Unquote does.
 */
export function readGoString(src: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let out = '';
  let runStart = i;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '"') return { value: out + src.slice(runStart, i), end: i + 1 };
    if (ch === '\n') throw new UnquoteError('newline in string', i);
    if (ch !== '\\') {
      i++;
      continue;
    }
    out += src.slice(runStart, i);
    const esc = src[i + 1];
    if (esc === undefined) break;
    const simple = SIMPLE_ESCAPES[esc];
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (esc === 'x' || esc === 'u' || esc === 'U') {
      const width = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
      const hex = src.slice(i + 2, i + 2 + width);
      if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) throw new UnquoteError('invalid syntax', i);
      const code = parseInt(hex, 16);
      if (esc === 'x') out += Buffer.from([code]).toString('latin1');
      else if (code > 0x10ffff) throw new UnquoteError('invalid syntax', i);
      else out += String.fromCodePoint(code);
      i += 2 + width;
    } else if (esc >= '0' && esc <= '7') {
      const oct = src.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new UnquoteError('invalid syntax', i);
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
      i += 4;
    } else {
      throw new UnquoteError('invalid syntax', i);
    }
    runStart = i;
  }
  throw new UnquoteError('literal not terminated', start);
}
