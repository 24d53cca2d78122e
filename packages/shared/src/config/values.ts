import { readByteSize } from '../logql-time/bytes.js';
import { parseDuration } from '../logql-time/duration.js';
import { parseRFC3339 } from '../logql-time/timestamp.js';
import { z } from 'zod';

/*
 * Value types of Loki's (and Promtail's) YAML: durations (Go or Prometheus syntax) become bigint nanoseconds, byte sizes
 * (binary units as Loki's flagext.ByteSize: `256KB` = 262144) become numbers of bytes, `from` dates become ns.
 */

export const duration = z.union([z.string(), z.number(), z.bigint()]).transform((v, ctx) => {
  if (typeof v === 'bigint') return v;
  // Loki reads a duration as Go's time.ParseDuration does: a number needs a unit, but for 0.
  const text = String(v).trim();
  if (/^[0-9.]+$/.test(text) && Number(text) !== 0) {
    ctx.addIssue({ code: 'custom', message: `time: missing unit in duration "${text}" (examples: 30s, 1h30m, 7d)` });
    return z.NEVER;
  }
  const ns = typeof v === 'number' ? 0n : parseDuration(text);
  if (ns !== undefined && ns >= 0n) return ns;
  ctx.addIssue({ code: 'custom', message: `time: invalid duration ${JSON.stringify(String(v))} (examples: 30s, 1h30m, 7d)` });
  return z.NEVER;
});

export const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const read = readByteSize(v);
  if (read.bytes !== undefined) return read.bytes;
  ctx.addIssue({ code: 'custom', message: `${read.error} (examples: 256KB, 1536KB, 1048576)` });
  return z.NEVER;
});

export const dayTime = z.union([z.string(), z.date()]).transform((v, ctx) => {
  if (v instanceof Date) return BigInt(v.getTime()) * 1_000_000n;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v.trim());
  const ns = m ? parseRFC3339(`${v.trim()}T00:00:00Z`) : undefined;
  if (ns !== undefined) return ns;
  ctx.addIssue({ code: 'custom', message: `invalid date ${JSON.stringify(v)} (expected YYYY-MM-DD)` });
  return z.NEVER;
});

export const port = z.number().int().min(0).max(65535);

/** `a,b,c` or a YAML list: Loki's flagext.StringSliceCSV. */
export const csvList = z.union([z.string(), z.array(z.string())]).transform((v) =>
  Array.isArray(v)
    ? v
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
);
