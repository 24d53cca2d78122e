import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MEMBER_ROUTE, type Membership } from './membership.js';

/** A POST body larger than this is not a ring entry list; refuse it rather than buffer it. */
const MAX_BODY_BYTES = 4 << 20;

export interface MemberServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The member route on its own listener at `memberlist.bind_addr`:`memberlist.bind_port` (7946), where Loki's
 * memberlist listens: the Helm chart's `*-memberlist` headless service and `join_members` name that port.
 */
export async function startMemberServer(membership: Membership, host: string, port: number): Promise<MemberServer> {
  const server = createServer((req, res) => void handle(membership, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(membership: Membership, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== MEMBER_ROUTE) return reply(res, 404, { error: 'not found' });
  if (req.method === 'GET') return reply(res, 200, membership.payload());
  if (req.method !== 'POST') return reply(res, 405, { error: 'method not allowed' });
  try {
    membership.receive(JSON.parse(await readBody(req)));
    reply(res, 204);
  } catch (e) {
    reply(res, 400, { error: (e as Error).message });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
