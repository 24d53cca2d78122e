import { afterEach, describe, expect, it } from 'vitest';
import { QUERY_TIMEOUT_MESSAGE } from '../shard/types.js';
import { eventually } from '../testing/eventually.js';
import { GatedChunkStore } from '../testing/gated-chunk-store.js';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * Admission, query_timeout and client disconnects over HTTP. The data sits in the object store only (a
 * first server writes and flushes it; the server under test starts empty on the same store), and the store
 * can hold chunk reads at a gate, so a query can be kept in its read loop for as long as a test needs.
 */

const STREAMS = 20;
const LINES_PER_STREAM = 2000;
const NOW_NS = BigInt(Date.now()) * 1_000_000n;
const FIRST_NS = NOW_NS - 600_000_000_000n; // ten minutes ago

/** Counts every stored line: it reads every chunk, and the read loop looks at its signal every 4096 lines. */
const COUNT_ALL = 'sum(count_over_time({job="load"}[1h]))';
const countQuery = () => `/loki/api/v1/query?${qs({ query: COUNT_ALL, time: NOW_NS })}`;

let running: TestServer[] = [];
let store: GatedChunkStore;

afterEach(async () => {
  store?.open();
  for (const s of running) {
    await eventually(async () => s.admission.active === 0);
    await s.destroy();
  }
  running = [];
});

/** A fresh store with STREAMS flushed streams of LINES_PER_STREAM lines, and a server over it. */
async function serverOverStoredData(yaml: string): Promise<TestServer> {
  store = new GatedChunkStore();
  const writer = await startTestServer('', { objectStore: store });
  try {
    const streams = Array.from({ length: STREAMS }, (_, s) => ({
      stream: { job: 'load', n: String(s) },
      values: Array.from({ length: LINES_PER_STREAM }, (_, i) => [(FIRST_NS + BigInt(i) * 1_000_000n).toString(), `line ${i} of stream ${s}`]),
    }));
    expect((await writer.pushJson({ streams })).status).toBe(204);
  } finally {
    await writer.destroy(); // flushes every chunk and the index (wal.flush_on_shutdown)
  }
  const server = await startTestServer(yaml, { objectStore: store });
  running.push(server);
  return server;
}

async function countOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return body.data.result[0]!.value[1];
}

async function queueLength(server: TestServer): Promise<number> {
  const text = await (await server.get('/metrics')).text();
  return Number(/^cortex_query_scheduler_queue_length\{user="fake"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('query admission over HTTP', () => {
  it("answers 429 with Loki's text to a query beyond max_outstanding_requests_per_tenant, and the others once there is room", async () => {
    const server = await serverOverStoredData('querier: {max_concurrent: 1}\nquery_scheduler: {max_outstanding_requests_per_tenant: 1}');
    expect(await countOf(await server.get(countQuery()))).toBe(String(STREAMS * LINES_PER_STREAM));
    store.shut();
    const first = server.get(countQuery());
    await eventually(async () => store.waiting >= 1); // running, held at its first chunk
    const second = server.get(countQuery());
    await eventually(async () => (await queueLength(server)) === 1); // waiting for the slot
    const refused = await server.get(countQuery());
    expect(refused.status).toBe(429);
    expect(await refused.text()).toBe('too many outstanding requests\n');
    const metrics = await (await server.get('/metrics')).text();
    expect(metrics).toMatch(/^cortex_query_scheduler_discarded_requests_total\{user="fake"\} 1$/m);
    store.open();
    expect(await countOf(await first)).toBe(String(STREAMS * LINES_PER_STREAM));
    expect(await countOf(await second)).toBe(String(STREAMS * LINES_PER_STREAM));
  });

  it("answers 504 with Loki's text at query_timeout, for a running query and one still waiting", async () => {
    const server = await serverOverStoredData('querier: {max_concurrent: 1}\nlimits_config: {query_timeout: 3s}');
    // The store answers no chunk read: only the timeout can end these queries, so their 504s show it fired
    // (no bound on the time taken, which a busy machine would break).
    store.shut();
    const runningQuery = server.get(countQuery());
    await eventually(async () => store.waiting >= 1);
    const waitingQuery = server.get(countQuery());
    for (const res of [await runningQuery, await waitingQuery]) {
      expect(res.status).toBe(504);
      expect(await res.text()).toBe(`${QUERY_TIMEOUT_MESSAGE}\n`);
    }
    // The timed-out query gave up its chunk reads and its slot, though the store has not answered them,
    // and asks for no more once the store answers.
    await eventually(async () => server.admission.active === 0);
    const requested = store.chunkRequests;
    store.open();
    await eventually(async () => store.waiting === 0);
    expect(store.chunkRequests).toBe(requested);
  });

  it("Drilldown's detected fields read lines as a query does: they wait for a slot and end at query_timeout with Loki's 504", async () => {
    const server = await serverOverStoredData('querier: {max_concurrent: 1}\nlimits_config: {query_timeout: 3s}');
    const fields = (query: string) => server.get(`/loki/api/v1/detected_fields?${qs({ query, start: FIRST_NS, end: NOW_NS })}`);
    // (detected_fields answering 200 is detected.test.ts's; with a 1s timeout here it would depend on the machine's load)
    store.shut();
    const running = server.get(countQuery());
    await eventually(async () => store.waiting >= 1); // the one slot is taken
    const waiting = fields('{job="load"}');
    await eventually(async () => (await queueLength(server)) === 1);
    for (const res of [await running, await waiting]) {
      expect(res.status).toBe(504);
      expect(await res.text()).toBe(`${QUERY_TIMEOUT_MESSAGE}\n`);
    }
    expect((await fields('sum(count_over_time({job="load"}[1m]))')).status).toBe(400);
  });

  it('stops the query of a client that disconnects and frees its slot for the next', async () => {
    const server = await serverOverStoredData('querier: {max_concurrent: 1}');
    store.shut();
    const client = new AbortController();
    const gone = fetch(server.url + countQuery(), { signal: client.signal }).catch((e: unknown) => e);
    await eventually(async () => store.waiting >= 1);
    client.abort();
    expect(await gone).toBeInstanceOf(Error);
    // The server saw the connection close and stopped the query: its slot and its workers are free while
    // its chunk reads still wait at the gate, so a query of lines in memory is answered meanwhile.
    await eventually(async () => server.admission.active === 0);
    const inMemory = { streams: [{ stream: { job: 'fresh' }, values: [[NOW_NS.toString(), 'in memory']] }] };
    expect((await server.pushJson(inMemory)).status).toBe(204);
    const fresh = `/loki/api/v1/query?${qs({ query: 'sum(count_over_time({job="fresh"}[1h]))', time: NOW_NS + 1n })}`;
    expect(await countOf(await server.get(fresh))).toBe('1');
    expect(store.waiting).toBeGreaterThan(0);
    const requested = store.chunkRequests;
    store.open();
    // The reads it had asked for go through; it asks for no more.
    await eventually(async () => store.waiting === 0);
    expect(store.chunkRequests).toBe(requested);
    // With max_concurrent 1, the next query gets the slot and a full answer.
    expect(await countOf(await server.get(countQuery()))).toBe(String(STREAMS * LINES_PER_STREAM));
  });
});
