import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { decodePushRequestProto, silentLogger, snappyUncompress } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createMetrics } from '../metrics.js';
import { FileProgress } from '../tail/progress.js';
import { LokiClient } from './client.js';
import { QueueBudget } from './queue-budget.js';
import { StreamLabels } from './stream-labels.js';

/*
 * The client against a scripted HTTP endpoint (it answers each push with the next status of a script), to
 * see what goes on the wire and how each answer is handled.
 */

interface Seen {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: http.Server | undefined;
afterEach(() => server?.close());

/** A self-signed certificate for the name loki.test only (testdata/, valid until 2126). */
const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
const CERT = path.join(TESTDATA, 'loki-test.crt');
const KEY = path.join(TESTDATA, 'loki-test.key');

async function scripted(statuses: number[], tls = false): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const status = statuses.shift() ?? 204;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 204 ? '' : `status ${status}`);
    });
  };
  server = tls ? https.createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, handler) : http.createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server!.address() as AddressInfo).port}/loki/api/v1/push`, seen };
}

function client(clientYaml: string) {
  const { config } = parseConfig(`
clients: [${clientYaml}]
scrape_configs: [{job_name: x, static_configs: [{labels: {__path__: /x}}]}]
`);
  const metrics = createMetrics();
  const budget = new QueueBudget(1 << 20);
  const settled: number[] = [];
  const c = new LokiClient({
    index: 0,
    config: config.clients[0]!,
    budget,
    metrics,
    log: silentLogger,
    userAgent: 'test',
    random: () => 0.5,
    onSettled: async (files) => {
      settled.push(files[0]!.acked[0]!);
    },
  });
  return { c, metrics, budget, settled };
}

const sum = async (m: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> }) => (await m.get()).values;

describe('push client', () => {
  it('sends protobuf+snappy with tenant, basic auth and external labels; retries 429 and 5xx until it succeeds', async () => {
    const { url, seen } = await scripted([429, 503]);
    const { c, metrics, budget, settled } = client(`{url: ${url}, tenant_id: team-a, basic_auth: {username: u, password: p}, external_labels: {cluster: c1},
      backoff_config: {min_period: 10ms, max_period: 20ms}}`);
    const file = new FileProgress('/f', { dev: 1, ino: 2, fingerprint: '' }, [0]);
    const line = Buffer.from('hello');
    c.add(new StreamLabels(new Map([['job', 'x']])), 1700000000, 5, line, 0, 5, undefined, file, 42);
    await c.drain();
    expect(seen).toHaveLength(3);
    const { headers, body } = seen[2]!;
    expect(headers['content-type']).toBe('application/x-protobuf');
    expect(headers['x-scope-orgid']).toBe('team-a');
    expect(headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const req = decodePushRequestProto(snappyUncompress(body));
    expect(req.streams.map((s) => [s.labels, s.entries.toEntries().map((e) => [e.timestamp, e.line])])).toEqual([
      ['{cluster="c1", job="x"}', [[1700000000000000005n, 'hello']]],
    ]);
    expect(seen[0]!.body.equals(body)).toBe(true);
    expect((await sum(metrics.retries))[0]!.value).toBe(2);
    expect((await sum(metrics.sentEntries))[0]!.value).toBe(1);
    expect(settled).toEqual([42]);
    expect(file.pending[0]).toBe(0);
    expect(budget.bytes).toBe(0);
    c.stop();
  });

  it('drops a batch the server rejects with another 4xx, counting it by reason, and moves on', async () => {
    const { url, seen } = await scripted([400, 204]);
    const { c, metrics, settled } = client(`{url: ${url}, batchsize: 10}`);
    const file = new FileProgress('/f', { dev: 1, ino: 2, fingerprint: '' }, [0]);
    const labels = new StreamLabels(new Map([['job', 'x']]));
    c.add(labels, 1, 0, Buffer.from('bad line'), 0, 8, undefined, file, 10);
    c.add(labels, 2, 0, Buffer.from('good line'), 0, 9, undefined, file, 20);
    await c.drain();
    expect(seen).toHaveLength(2);
    expect((await sum(metrics.droppedEntries)).map((v) => [v.labels.reason, v.value])).toEqual([['invalid', 1]]);
    expect((await sum(metrics.sentEntries))[0]!.value).toBe(1);
    expect(settled).toEqual([10, 20]);
    c.stop();
  });

  it('speaks TLS with its own CA and server name, and sends a bearer token read from its file', async () => {
    const { url, seen } = await scripted([], true);
    const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'agent-client-')), 'token');
    writeFileSync(tokenFile, 's3cr3t\n'); // as kubectl create secret leaves it
    const { c, metrics } = client(`{url: "${url}", bearer_token_file: ${tokenFile}, tls_config: {ca_file: ${CERT}, server_name: loki.test}}`);
    const file = new FileProgress('/f', { dev: 1, ino: 2, fingerprint: '' }, [0]);
    c.add(new StreamLabels(new Map([['job', 'x']])), 1, 0, Buffer.from('over tls'), 0, 8, undefined, file, 8);
    await c.drain();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.authorization).toBe('Bearer s3cr3t');
    expect((await sum(metrics.sentEntries))[0]!.value).toBe(1);
    c.stop();
  });

  it('does not send to a server whose certificate it cannot verify, and says why', async () => {
    const { url, seen } = await scripted([], true);
    const warnings: string[] = [];
    const { config } = parseConfig(`
clients: [{url: "${url}", tls_config: {ca_file: ${CERT}}, backoff_config: {min_period: 10ms, max_period: 20ms}}]
scrape_configs: [{job_name: x, static_configs: [{labels: {__path__: /x}}]}]
`);
    const c = new LokiClient({
      index: 0,
      config: config.clients[0]!,
      budget: new QueueBudget(1 << 20),
      metrics: createMetrics(),
      userAgent: 'test',
      random: () => 0.5,
      log: { ...silentLogger, warn: (m: string) => warnings.push(m) },
      onSettled: async () => {},
    });
    const file = new FileProgress('/f', { dev: 1, ino: 2, fingerprint: '' }, [0]);
    c.add(new StreamLabels(new Map([['job', 'x']])), 1, 0, Buffer.from('x'), 0, 1, undefined, file, 1);
    void c.drain();
    // The certificate names loki.test, not 127.0.0.1: without server_name every attempt fails verification.
    for (let i = 0; i < 100 && warnings.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    c.stop();
    expect(seen).toHaveLength(0);
    expect(warnings[0]).toMatch(/push failed, retrying in \d+ ms: .*(altnames|certificate)/i);
  });
});
