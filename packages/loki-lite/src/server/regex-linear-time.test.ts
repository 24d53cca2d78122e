import { afterEach, beforeEach, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

const T = 1_795_132_800n; // 2026-11-20T00:00:00Z in seconds
const NS = 1_000_000_000n;
const LINES = 2_000;

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(() => server.destroy());

// A backtracking engine takes about 2^28 steps per line on `(a+)+b` over 28 a's and a c, and blocks the event
// loop while it does: the query never answers, nor does anything else. RE2, as in Loki, takes linear time.
it("answers a catastrophic regex over lines of 28 a's and a c, and takes pushes meanwhile", async () => {
  const line = `${'a'.repeat(28)}c`;
  const values = Array.from({ length: LINES }, (_, i) => [((T + BigInt(i)) * NS).toString(), line]);
  expect((await server.pushJson({ streams: [{ stream: { job: 'x' }, values }] })).status).toBe(204);

  const range = { start: T.toString(), end: (T + BigInt(LINES)).toString() };
  const query = server.get(`/loki/api/v1/query_range?${qs({ query: '{job="x"} |~ "(a+)+b"', ...range })}`);
  const push = server.pushJson({ streams: [{ stream: { job: 'y' }, values: [[((T + 1n) * NS).toString(), 'pushed meanwhile']] }] });
  const [queried, pushed] = await Promise.all([query, push]);

  expect(pushed.status).toBe(204);
  expect(queried.status).toBe(200);
  const body = (await queried.json()) as { data: { result: unknown[] } };
  expect(body.data.result).toEqual([]);
  const count = await server.get(`/loki/api/v1/query?${qs({ query: `sum(count_over_time({job="x"} |~ "(a+)+c" [1h]))`, time: range.end })}`);
  expect(count.status).toBe(200);
  expect(((await count.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1]).toBe(String(LINES));
  const other = await server.get(`/loki/api/v1/query_range?${qs({ query: '{job="y"}', ...range })}`);
  expect(JSON.stringify(await other.json())).toContain('pushed meanwhile');
});
