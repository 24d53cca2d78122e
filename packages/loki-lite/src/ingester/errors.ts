import { formatGoTime, LokiError } from '@loki-lite/shared';
import type { EntryFailure } from './stream.js';

/**
 * Loki's answer for a stream with rejected entries (ingester errorForFailedEntries): one line per rejected
 * entry (at most `maxReturned`), then a summary. The status follows the last failure: 429 when it hit the
 * per-stream rate limit, 400 when it was out of order.
 */
export function failedEntriesError(tenant: string, labels: string, failed: readonly EntryFailure[], total: number, maxReturned: number): LokiError {
  const last = failed[failed.length - 1]!;
  const shown = maxReturned > 0 ? failed.slice(0, maxReturned) : failed;
  let message = '';
  for (const f of shown) message += `entry with timestamp ${formatGoTime(f.timestamp)} ignored, reason: '${f.error.message}',\n`;
  message += `user '${tenant}', total ignored: ${failed.length} out of ${total} for stream: ${labels}`;
  return new LokiError(last.error.kind, last.error.code, message);
}
