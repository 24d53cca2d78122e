import { createHash } from 'node:crypto';

/**
 * Tokens of an instance, derived from its id alone: the same id always draws the same sequence, so an
 * ingester restarted under its StatefulSet pod name takes back the ranges it held (and the streams whose WAL
 * it replays) without a tokens file. Candidates already held by other instances are skipped, so a newcomer
 * never takes another's token; the walk continues until `count` tokens are found.
 */
export function generateTokens(instanceId: string, count: number, takenByOthers: ReadonlySet<number> = new Set()): number[] {
  const tokens = new Set<number>();
  for (let block = 0; tokens.size < count; block++) {
    // SHA-256 of (id, block) gives 8 well-spread uint32 candidates per block; it runs only when joining.
    const digest = createHash('sha256').update(`${instanceId}\n${block}`).digest();
    for (let off = 0; off + 4 <= digest.length && tokens.size < count; off += 4) {
      const candidate = digest.readUInt32BE(off);
      if (!takenByOthers.has(candidate)) tokens.add(candidate);
    }
  }
  return [...tokens].sort((a, b) => a - b);
}

const FNV32_OFFSET = 2166136261;
const FNV32_PRIME = 16777619;

/**
 * The ring token of a stream, as Loki's `TokenFor(tenantID, labels)` (pkg/util/ring): 32-bit FNV-1 (Go's
 * `fnv.New32`, multiply then xor; not FNV-1a) over the UTF-8 bytes of the tenant followed by the labels
 * string. Hashes the strings' code points in place, so the distributor's per-stream call allocates nothing.
 */
export function tokenFor(tenant: string, labels: string): number {
  return fnv1Utf8(fnv1Utf8(FNV32_OFFSET, tenant), labels) >>> 0;
}

function fnv1Utf8(hash: number, s: string): number {
  let h = hash;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const low = cp <= 0xdbff ? s.charCodeAt(i + 1) : NaN;
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        cp = 0xfffd; // a lone surrogate encodes as U+FFFD, as Buffer.from(s) and Go's []byte(s) do
      }
    }
    h = fnv1CodePoint(h, cp);
  }
  return h;
}

/** Feeds one code point's UTF-8 bytes. */
function fnv1CodePoint(h: number, cp: number): number {
  if (cp < 0x80) return step(h, cp);
  if (cp < 0x800) return step(step(h, 0xc0 | (cp >> 6)), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) return step(step(step(h, 0xe0 | (cp >> 12)), 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
  return step(step(step(step(h, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3f)), 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
}

const step = (h: number, byte: number) => (Math.imul(h, FNV32_PRIME) ^ byte) >>> 0;
