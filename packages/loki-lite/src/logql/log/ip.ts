import { BlockList, isIP } from 'node:net';
import { LokiError } from '@loki-lite/shared';

/*
 * Loki's ip("...") matcher: a single address, a range `a-b`, or a CIDR, IPv4 or IPv6. Node's BlockList
 * does the membership test.
 */
export interface IpMatcher {
  /** True if `value` is an address inside the pattern. */
  matches(value: string): boolean;
  /** True if any address-looking token of `line` is inside the pattern. */
  matchesLine(line: string): boolean;
}

const CANDIDATE = /[0-9a-fA-F:.]+/g;

export function compileIpMatcher(pattern: string): IpMatcher {
  const list = new BlockList();
  const family = (a: string) => (isIP(a) === 6 ? 'ipv6' : 'ipv4');
  const bad = () => new LokiError('bad_data', 'parse_error', `parse error : ip: invalid pattern "${pattern}"`);
  const p = pattern.trim();
  try {
    if (p.includes('/')) {
      const [net, bits] = p.split('/') as [string, string];
      if (!isIP(net) || !/^\d+$/.test(bits)) throw bad();
      list.addSubnet(net, Number(bits), family(net));
    } else if (p.includes('-')) {
      const [from, to] = p.split('-').map((s) => s.trim()) as [string, string];
      if (!isIP(from) || !isIP(to) || isIP(from) !== isIP(to)) throw bad();
      list.addRange(from, to, family(from));
    } else {
      if (!isIP(p)) throw bad();
      list.addAddress(p, family(p));
    }
  } catch {
    // BlockList itself refuses a prefix longer than the address (`/33`) and a range that ends before it starts.
    throw bad();
  }
  const matches = (value: string) => isIP(value) !== 0 && list.check(value, family(value));
  return {
    matches,
    matchesLine: (line) => {
      for (const m of line.matchAll(CANDIDATE)) if (matches(m[0])) return true;
      return false;
    },
  };
}
