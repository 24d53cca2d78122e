import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { type ClientHttp2Session, connect } from 'node:http2';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodePushRequestProto } from '@loki-lite/shared';
import { ClientPool } from 'loki-lite/transport-client-pool';
import { PUSH_METHOD, PusherClient } from 'loki-lite/transport-pusher';
import { parseArgs } from './args.js';
import { LINE_TEMPLATES, type LineTemplate } from './loglines.js';
import { cpuSeconds } from './proc.js';
import { buildRequests } from './push-bodies.js';
import { median, printResult, Progress } from './report.js';

/*
 * Push replication between roles: a distributor's client sends every push body to --replicas ingesters
 * (separate processes on 127.0.0.1, transport-peer.ts) and waits for all of them, --concurrency bodies at a
 * time, over gRPC (loki-lite's transport: logproto.Pusher/Push, one HTTP/2 channel per peer), over plain
 * HTTP/2 (node:http2, one session per peer: what gRPC costs above its HTTP/2) and over HTTP/1.1 keep-alive
 * (node:http Agent, --concurrency sockets per peer). The bodies are the PushRequest
 * protobuf as the distributor forwards it (not snappy-compressed, as Loki's ingester client sends it
 * without grpc_compression), built from the bench's lines before the clock starts. The peers' handlers take
 * the tenant and the whole body and do nothing else, so the figures are the transports'.
 *
 * The transports (--transports) run in turn (grpc, http2, http, grpc, ...) for --rounds rounds; each figure is the median
 * over the rounds, with its range beside it. CPU is the client's (process.cpuUsage) and the peers' (/proc),
 * per 100 MB of line bytes (each sent --replicas times).
 *
 *   pnpm bench transport --mb 200 --rounds 3
 */
const args = parseArgs(process.argv.slice(2), {
  mb: '200',
  streams: '200',
  template: 'mixed',
  'lines-per-push': '1000',
  concurrency: '4',
  replicas: '3',
  rounds: '3',
  tenant: 'bench',
  transports: 'grpc,http2,http',
  json: '',
});

interface Options {
  readonly targetBytes: number;
  readonly streams: number;
  readonly template: LineTemplate;
  readonly linesPerPush: number;
  readonly concurrency: number;
  readonly replicas: number;
  readonly rounds: number;
  readonly transports: readonly TransportName[];
}

const TRANSPORTS = ['grpc', 'http2', 'http'] as const;
type TransportName = (typeof TRANSPORTS)[number];

function options(): Options {
  const whole = (name: keyof typeof args) => {
    const n = Number(args[name]);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${args[name]}"`);
    return n;
  };
  const mb = Number(args.mb);
  if (!Number.isFinite(mb) || mb <= 0) throw new Error(`--mb must be a positive number, not "${args.mb}"`);
  if (!(LINE_TEMPLATES as readonly string[]).includes(args.template))
    throw new Error(`--template must be one of ${LINE_TEMPLATES.join(', ')}, not "${args.template}"`);
  const transports = args.transports.split(',');
  const unknown = transports.find((t) => !(TRANSPORTS as readonly string[]).includes(t));
  if (unknown !== undefined) throw new Error(`--transports takes ${TRANSPORTS.join(', ')}, not "${unknown}"`);
  return {
    transports: transports as TransportName[],
    targetBytes: mb * 1024 * 1024,
    streams: whole('streams'),
    template: args.template as LineTemplate,
    linesPerPush: whole('lines-per-push'),
    concurrency: whole('concurrency'),
    replicas: whole('replicas'),
    rounds: whole('rounds'),
  };
}

interface Peer {
  readonly child: ChildProcess;
  readonly grpcAddress: string;
  readonly httpPort: number;
  readonly http2Port: number;
}

/** Starts one peer process and reads its ports. */
async function startPeer(): Promise<Peer> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./transport-peer.js', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`a transport peer exited with status ${code} before it listened`)));
  });
  const ports = JSON.parse(firstLine) as { grpc: number; http: number; http2: number };
  return { child, grpcAddress: `127.0.0.1:${ports.grpc}`, httpPort: ports.http, http2Port: ports.http2 };
}

/** One way to push a body to peer `i`. */
interface Transport {
  readonly name: string;
  push(i: number, body: Buffer): Promise<void>;
  close(): void;
}

function grpcTransport(peers: readonly Peer[], tenant: string): Transport {
  const pool = new ClientPool({ peerRole: 'ingester' });
  const pusher = new PusherClient(pool);
  return { name: 'grpc', push: (i, body) => pusher.push(peers[i]!.grpcAddress, tenant, body), close: () => pool.close() };
}

function httpTransport(peers: readonly Peer[], tenant: string, concurrency: number): Transport {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const push = (i: number, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: peers[i]!.httpPort,
          method: 'POST',
          path: PUSH_METHOD,
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength, 'x-scope-orgid': tenant },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`HTTP ${res.statusCode} from peer ${i}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { name: 'http', push, close: () => agent.destroy() };
}

/** HTTP/2 without gRPC: node:http2, one session per peer, the body as it is, as grpc-js's channel sends it. */
function http2Transport(peers: readonly Peer[], tenant: string): Transport {
  const sessions: ClientHttp2Session[] = peers.map((p) => connect(`http://127.0.0.1:${p.http2Port}`));
  const push = (i: number, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const stream = sessions[i]!.request({ ':method': 'POST', ':path': PUSH_METHOD, 'content-type': 'application/x-protobuf', 'x-scope-orgid': tenant });
      let status = 0;
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('error', reject);
      stream.on('end', () => (status === 204 ? resolve() : reject(new Error(`HTTP/2 ${status} from peer ${i}`))));
      stream.resume();
      stream.end(body);
    });
  return { name: 'http2', push, close: () => sessions.forEach((s) => s.close()) };
}

/** Sends every body to every peer, `concurrency` bodies at a time; a body is done when all peers answered. */
async function replicate(transport: Transport, bodies: readonly Buffer[], replicas: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await Promise.all(Array.from({ length: replicas }, (_, i) => transport.push(i, body)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface Round {
  readonly seconds: number;
  readonly clientCpu: number;
  readonly peersCpu: number;
}

async function measure(transport: Transport, peers: readonly Peer[], bodies: readonly Buffer[], o: Options): Promise<Round> {
  const peersCpu = () => peers.reduce((sum, p) => sum + cpuSeconds(p.child.pid!), 0);
  const cpu0 = process.cpuUsage();
  const peers0 = peersCpu();
  const t0 = process.hrtime.bigint();
  await replicate(transport, bodies, o.replicas, o.concurrency);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { seconds, clientCpu: (cpu.user + cpu.system) / 1e6, peersCpu: peersCpu() - peers0 };
}

/** A figure over the rounds: its median and range. */
function figure(values: readonly number[], digits: number): { median: number; min: number; max: number } {
  const round = (v: number) => Number(v.toFixed(digits));
  return { median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)) };
}

function summary(name: string, rounds: readonly Round[], lineMb: number) {
  const per100 = (cpu: (r: Round) => number) =>
    figure(
      rounds.map((r) => (cpu(r) / lineMb) * 100),
      3,
    );
  return {
    transport: name,
    'MB/s': figure(
      rounds.map((r) => lineMb / r.seconds),
      1,
    ),
    'client CPU-s per 100 MB': per100((r) => r.clientCpu),
    'peers CPU-s per 100 MB': per100((r) => r.peersCpu),
    'total CPU-s per 100 MB': per100((r) => r.clientCpu + r.peersCpu),
  };
}

async function main(): Promise<void> {
  const o = options();
  process.stderr.write(`building requests: ${o.streams} streams, ${args.mb} MB of lines...\n`);
  const shape = { ...o, lineBytes: 0, batchBytes: Infinity, totalLines: Infinity };
  const req = buildRequests(shape, o.targetBytes, Date.now() - 3_600_000, (r) => Buffer.from(encodePushRequestProto(r)));
  const lineMb = req.bytes.reduce((a, b) => a + b, 0) / 1024 / 1024;
  const wireMb = req.bodies.reduce((a, b) => a + b.byteLength, 0) / 1024 / 1024;
  const peers: Peer[] = [];
  const transports: Transport[] = [];
  try {
    for (let i = 0; i < o.replicas; i++) peers.push(await startPeer());
    const makers: Record<TransportName, () => Transport> = {
      grpc: () => grpcTransport(peers, args.tenant),
      http2: () => http2Transport(peers, args.tenant),
      http: () => httpTransport(peers, args.tenant, o.concurrency),
    };
    transports.push(...o.transports.map((name) => makers[name]()));
    const rounds = new Map<string, Round[]>(transports.map((t) => [t.name, []]));
    // Untimed: connects every client and warms the JIT of client and peers alike.
    const warmup = req.bodies.slice(0, Math.min(req.bodies.length, 20));
    for (const t of transports) await replicate(t, warmup, o.replicas, o.concurrency);
    let status = '';
    const progress = new Progress(() => status);
    try {
      for (let r = 1; r <= o.rounds; r++) {
        for (const t of transports) {
          status = `round ${r}/${o.rounds}: ${t.name}`;
          const round = await measure(t, peers, req.bodies, o);
          rounds.get(t.name)!.push(round);
          process.stderr.write(
            `round ${r} ${t.name}: ${(lineMb / round.seconds).toFixed(1)} MB/s, CPU-s per 100 MB client ${((round.clientCpu / lineMb) * 100).toFixed(2)} peers ${((round.peersCpu / lineMb) * 100).toFixed(2)}\n`,
          );
        }
      }
    } finally {
      progress.stop();
    }
    printResult(
      {
        'MB of lines': Number(lineMb.toFixed(1)),
        'MB per replica on the wire': Number(wireMb.toFixed(1)),
        pushes: req.bodies.length,
        replicas: o.replicas,
        concurrency: o.concurrency,
        rounds: o.rounds,
        transports: transports.map((t) => summary(t.name, rounds.get(t.name)!, lineMb)),
      },
      args.json === 'true',
    );
  } finally {
    for (const t of transports) t.close();
    for (const p of peers) p.child.stdin!.end();
  }
}

await main();
