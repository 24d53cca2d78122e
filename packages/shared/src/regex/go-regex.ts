import { LokiError } from '../errors.js';

/**
 * LogQL regexes and Prometheus relabel rules are Go RE2. JavaScript's engine agrees on most of the syntax; this translates the parts
 * that differ (flag groups, \A \z, (?P<name>), POSIX classes, \Q..\E) and rejects what RE2 does not have
 * (look-arounds, back-references), so a pattern never silently means something else here than in Loki.
 */

export class RegexError extends LokiError {
  constructor(message: string) {
    super('bad_data', 'invalid_regex', message);
  }
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

function escapeLiteral(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** Translates a Go RE2 pattern to a JS source and flags. Throws RegexError with Go's wording. */
export function translateGoRegex(pattern: string): { source: string; flags: string } {
  let flags = '';
  let src = pattern;
  // Leading flag groups apply to the whole pattern: (?i) (?s) (?m) (?is) ...
  let m: RegExpExecArray | null;
  while ((m = /^\(\?([imsU]+)\)/.exec(src))) {
    for (const f of m[1]!) {
      if (f === 'U') throw new RegexError(`error parsing regexp: invalid or unsupported Perl syntax: \`(?U\``);
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === undefined) throw new RegexError('error parsing regexp: trailing backslash at end of expression: ``');
      if (next === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = src.slice(i + 2, end < 0 ? undefined : end);
        out += escapeLiteral(lit);
        i = end < 0 ? src.length : end + 1;
        continue;
      }
      if (!inClass && next === 'A') { out += '(?<![\\s\\S])'; i++; continue; }
      if (!inClass && next === 'z') { out += '(?![\\s\\S])'; i++; continue; }
      if (/[1-9]/.test(next)) throw new RegexError(`error parsing regexp: invalid escape sequence: \`\\${next}\``);
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        const name = end < 0 ? '' : src.slice(i + 2, end);
        const negated = name.startsWith('^');
        const cls = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (cls === undefined) throw new RegexError(`error parsing regexp: invalid character class range: \`${src.slice(i, end + 2)}\``);
        if (negated) throw new RegexError(`error parsing regexp: negated POSIX class inside a class is not supported: \`${src.slice(i, end + 2)}\``);
        out += cls;
        i = end + 1;
        continue;
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // A ']' right after '[' or '[^' is a literal in RE2.
      if (src[i + 1] === '^') { out += '^'; i++; }
      if (src[i + 1] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (ch === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      if (rest.startsWith('P<')) { out += '(?<'; i += 3; continue; }
      if (/^(=|!|<=|<!)/.test(rest)) throw new RegexError(`error parsing regexp: invalid or unsupported Perl syntax: \`(?${rest[0]}\``);
      const inline = /^([imsU-]+)(\)|:)/.exec(rest);
      if (inline) {
        // Scoped flags mid-pattern: JS (before ES2025 modifiers) has none. Support (?i:...) by case-folding
        // letters is overkill; reject clearly instead of changing the meaning.
        throw new RegexError(`error parsing regexp: inline flags inside the pattern are not supported by loki-lite yet: \`(?${inline[1]}${inline[2]}\``);
      }
    }
    out += ch;
  }
  if (inClass) throw new RegexError(`error parsing regexp: missing closing ]: \`${pattern}\``);
  return { source: out, flags };
}

/** Compiles a Go regex. `anchored` wraps it as ^(?:...)$ like Loki's label matchers. */
export function compileGoRegex(pattern: string, anchored: boolean): RegExp {
  const { source, flags } = translateGoRegex(pattern);
  try {
    return new RegExp(anchored ? `^(?:${source})$` : source, flags);
  } catch (e) {
    throw new RegexError(`error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}
