import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qs, startTestServer, type TestServer } from '../testing/test-server.js';

/*
 * The README says which metric names of Loki's loki-mixin (dashboards, alerts, recording rules) loki-lite
 * exports. The names come from src/testing/loki-mixin-metrics.txt; this test keeps the README's two lists
 * true to a real scrape and to that file, so neither can drift.
 */

const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));
const MIXIN_LIST = fileURLToPath(new URL('../testing/loki-mixin-metrics.txt', import.meta.url));
const SECTION = "## Loki's dashboards and alerts (loki-mixin)";

function mixinMetrics(): string[] {
  return readFileSync(MIXIN_LIST, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The backticked names of the paragraph in the README's mixin section that starts with `label`. */
function readmeList(label: string): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const end = text.indexOf('\n## ', start + 1);
  const paragraph = text
    .slice(start, end < 0 ? undefined : end)
    .split(/\n\s*\n/)
    .find((p) => p.startsWith(label));
  if (!paragraph) throw new Error(`the README's mixin section has no paragraph starting "${label}"`);
  return [...paragraph.matchAll(/`([a-zA-Z_:][a-zA-Z0-9_:]*)`/g)].map((m) => m[1]!);
}

/** Names with a `# TYPE <name> ` line: histograms and summaries by their base name, as the mixin's list has them. */
function typedNames(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

let server: TestServer;
let scraped: Set<string>;
let scrapeText: string;
beforeAll(async () => {
  server = await startTestServer();
  // A bit of everything, so metrics that only appear once used are on the scrape.
  const now = BigInt(Date.now()) * 1_000_000n;
  const values = Array.from({ length: 20 }, (_, i) => [(now + BigInt(i)).toString(), `mixin line ${i}`, { trace_id: `t${i}` }]);
  expect((await server.pushJson({ streams: [{ stream: { app: 'mixin' }, values }] })).status).toBe(204);
  expect((await server.get(`/loki/api/v1/query_range?${qs({ query: '{app="mixin"}' })}`)).status).toBe(200);
  expect((await server.get(`/loki/api/v1/query?${qs({ query: 'count_over_time({app="mixin"}[5m])' })}`)).status).toBe(200);
  expect((await fetch(`${server.url}/flush`, { method: 'POST' })).status).toBe(204);
  const res = await server.get('/metrics');
  expect(res.status).toBe(200);
  scrapeText = await res.text();
  scraped = typedNames(scrapeText);
});
afterAll(() => server.destroy());

describe('values the mixin reads', () => {
  it("structured metadata bytes are counted per tenant, names and values, as Loki's distributor counts them", () => {
    // trace_id (8 bytes) with t0..t9 (2) and t10..t19 (3)
    expect(scrapeText).toContain('loki_distributor_structured_metadata_bytes_received_total{tenant="fake",retention_hours=""} 210\n');
  });
});

describe("README's loki-mixin section", () => {
  it('every mixin metric the README lists as exported is on /metrics', () => {
    const missing = readmeList('Exported').filter((name) => !scraped.has(name));
    expect(missing, 'listed as exported in README.md but not on /metrics').toEqual([]);
  });

  it('no mixin metric the README lists as not yet exported is on /metrics (move it to the exported list)', () => {
    const exported = readmeList('Not yet').filter((name) => scraped.has(name));
    expect(exported, 'listed as not yet exported in README.md but on /metrics').toEqual([]);
  });

  it('the two lists hold exactly the names of loki-mixin-metrics.txt, each once', () => {
    const exported = readmeList('Exported');
    const notYet = readmeList('Not yet');
    const listed = [...exported, ...notYet];
    const mixin = mixinMetrics();
    const expected = { exported: mixin.filter((n) => scraped.has(n)), notYet: mixin.filter((n) => !scraped.has(n)) };
    const message = `README lists should be\nExported: ${expected.exported.map((n) => `\`${n}\``).join(', ')}\nNot yet: ${expected.notYet.map((n) => `\`${n}\``).join(', ')}`;
    expect(
      mixin.filter((n) => !listed.includes(n)),
      `in neither README list. ${message}`,
    ).toEqual([]);
    expect(
      listed.filter((n) => !mixin.includes(n)),
      'in a README list but not in loki-mixin-metrics.txt',
    ).toEqual([]);
    expect(
      listed.filter((n, i) => listed.indexOf(n) !== i),
      'listed twice',
    ).toEqual([]);
  });
});
