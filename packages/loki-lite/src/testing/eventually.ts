/**
 * Waits until `check` holds, polling every 25 ms, for parts that work on their own timers (the ingester's
 * flushes and index cuts); throws once `timeoutMs` pass without it.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}
