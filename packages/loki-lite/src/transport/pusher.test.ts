import { connectivityState } from '@grpc/grpc-js';
import { decodePushRequestProto, encodePushRequestProto, freePort, LokiError } from '@loki-lite/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientPool } from './client-pool.js';
import { GrpcServer } from './grpc-server.js';
import { type PushHandler, PusherClient, registerPusher } from './pusher.js';

/* logproto.Pusher/Push between a client pool and real gRPC servers on 127.0.0.1. */

const servers: GrpcServer[] = [];
const pools: ClientPool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  // grace 0: a handler that never answers must not hold the suite
  await Promise.all(servers.splice(0).map((s) => s.stop(0)));
});

async function startPusher(handler: PushHandler): Promise<string> {
  const server = new GrpcServer({ address: '127.0.0.1:0' });
  servers.push(server);
  registerPusher(server, handler);
  return `127.0.0.1:${await server.start()}`;
}

function newPool(remoteTimeoutMs?: number): ClientPool {
  const pool = new ClientPool({ peerRole: 'ingester', remoteTimeoutMs });
  pools.push(pool);
  return pool;
}

const body = encodePushRequestProto({
  streams: [{ labels: '{app="a"}', entries: [{ timestamp: 1_700_000_000_123_456_789n, line: 'hello', structuredMetadata: [] }] }],
});

describe('logproto.Pusher/Push over gRPC', () => {
  it('delivers the PushRequest bytes with the tenant from x-scope-orgid', async () => {
    const received: Array<{ tenant: string; body: Uint8Array }> = [];
    const address = await startPusher(async (tenant, bytes) => {
      received.push({ tenant, body: Uint8Array.from(bytes) });
    });
    await new PusherClient(newPool()).push(address, 'team-a', body);
    expect(received.map((r) => r.tenant)).toEqual(['team-a']);
    const decoded = decodePushRequestProto(received[0]!.body);
    expect(decoded.streams.map((s) => s.labels)).toEqual(['{app="a"}']);
    expect(decoded.streams[0]!.entries.line(0)).toBe('hello');
    expect(Buffer.from(received[0]!.body)).toEqual(Buffer.from(body));
  });

  it("hands a handler's LokiError back with its kind, code and Loki's text", async () => {
    const address = await startPusher(() => Promise.reject(new LokiError('rate_limited', 'rate_limited', 'Ingestion rate limit exceeded for user team-a')));
    const err = await new PusherClient(newPool()).push(address, 'team-a', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LokiError);
    expect(err).toMatchObject({ kind: 'rate_limited', code: 'rate_limited', message: 'Ingestion rate limit exceeded for user team-a' });
  });

  it('refuses a push without a tenant, as dskit does', async () => {
    const address = await startPusher(() => Promise.resolve());
    const err = await new PusherClient(newPool()).push(address, '', body).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unauthorized', message: 'no org id' });
  });

  it('a handler failing otherwise is a 5xx naming the peer and the method', async () => {
    const address = await startPusher(() => Promise.reject(new Error('disk full')));
    const err = await new PusherClient(newPool()).push(address, 'team-a', body).catch((e: unknown) => e);
    expect(err).toMatchObject({
      kind: 'internal',
      code: 'grpc_internal',
      message: `rpc error: code = Internal desc = disk full (ingester ${address} /logproto.Pusher/Push)`,
    });
  });

  it('fails at the deadline when the ingester never answers', async () => {
    const address = await startPusher(() => new Promise<void>(() => {}));
    const pool = newPool(50);
    // connected first, so the deadline passes while the peer holds the call
    await new Promise<void>((resolve, reject) => pool.clientFor(address).waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())));
    const err = await new PusherClient(pool).push(address, 'team-a', body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LokiError);
    expect(err).toMatchObject({
      kind: 'timeout',
      code: 'grpc_deadline_exceeded',
      message: `rpc error: code = DeadlineExceeded desc = context deadline exceeded (ingester ${address} /logproto.Pusher/Push)`,
    });
  });

  it('a refused connection is unavailable and names the peer', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const err = await new PusherClient(newPool()).push(address, 'team-a', body).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable', code: 'grpc_unavailable' });
    expect((err as Error).message).toMatch(/^rpc error: code = Unavailable desc = .*ECONNREFUSED/);
    expect((err as Error).message).toContain(`(ingester ${address} /logproto.Pusher/Push)`);
  });
});

describe('ClientPool', () => {
  it('keeps one channel per peer, drops one on remove() and closes them all on close()', async () => {
    const received: string[] = [];
    const [a, b] = await Promise.all([1, 2].map(() => startPusher(async (tenant) => void received.push(tenant))));
    const pool = newPool();
    const pusher = new PusherClient(pool);
    const clientA = pool.clientFor(a!);
    for (let i = 0; i < 3; i++) await Promise.all([pusher.push(a!, 't', body), pusher.push(b!, 't', body)]);
    expect(received.length).toBe(6);
    expect(pool.clientFor(a!)).toBe(clientA);
    expect(pool.addresses().sort()).toEqual([a, b].sort());
    const clientB = pool.clientFor(b!);
    expect(clientA.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);

    pool.remove(b!);
    expect(clientB.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(pool.addresses()).toEqual([a]);
    const redialled = pool.clientFor(b!);
    expect(redialled).not.toBe(clientB);

    pool.close();
    expect(clientA.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(redialled.getChannel().getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
    expect(pool.addresses()).toEqual([]);
    expect(() => pool.clientFor(a!)).toThrow('the ingester client pool is closed');
  });
});
