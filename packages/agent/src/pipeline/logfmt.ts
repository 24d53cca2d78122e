/*
 * logfmt as go-logfmt reads it (Promtail's logfmt stage): `key=value`, `key="quoted \"value\""`, bare keys
 * (empty value). Keys run to the next space or `=`; a later duplicate key wins.
 */

export function parseLogfmt(line: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 0x20) i++;
    const keyStart = i;
    while (i < n && line.charCodeAt(i) > 0x20 && line[i] !== '=' && line[i] !== '"') i++;
    const key = line.slice(keyStart, i);
    if (key === '') {
      i++;
      continue;
    }
    if (line[i] !== '=') {
      out.set(key, '');
      continue;
    }
    i++;
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < n && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < n) {
          const esc = line[++i]!;
          value += esc === 'n' ? '\n' : esc === 't' ? '\t' : esc === 'r' ? '\r' : esc;
        } else value += line[i];
        i++;
      }
      i++;
      out.set(key, value);
    } else {
      const valueStart = i;
      while (i < n && line.charCodeAt(i) > 0x20) i++;
      out.set(key, line.slice(valueStart, i));
    }
  }
  return out;
}
