import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { GrpcServer } from 'loki-lite/transport-server';
import { registerPusher } from 'loki-lite/transport-pusher';

/*
 * One "ingester" of the transport benchmark (transport.ts starts three): a gRPC server serving
 * logproto.Pusher/Push, and plain HTTP/1.1 and HTTP/2 (node:http2, no gRPC layer) servers taking the same
 * bodies, all on 127.0.0.1, each with a handler that takes the tenant and the whole body and does nothing
 * else, so the figures are the transports'. It prints its ports as one JSON line and runs until its
 * standard input closes (the benchmark ended or died).
 */

let pushes = 0;
const accept = async (tenant: string, body: Uint8Array): Promise<void> => {
  if (tenant === '' || body.byteLength === 0) throw new Error('a push without a tenant or a body');
  pushes++;
};

/** A push over plain HTTP, 1.1 or 2: the whole body, then 204. */
function httpPush(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    accept(String(req.headers['x-scope-orgid'] ?? ''), Buffer.concat(chunks)).then(
      () => res.writeHead(204).end(),
      (e: Error) => res.writeHead(400).end(e.message),
    );
  });
}

async function main(): Promise<void> {
  const grpc = new GrpcServer({ address: '127.0.0.1:0' });
  registerPusher(grpc, accept);
  const grpcPort = await grpc.start();
  const http = createServer({ keepAliveTimeout: 60_000 }, httpPush);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const httpPort = (http.address() as { port: number }).port;
  const http2 = createHttp2Server(httpPush);
  await new Promise<void>((r) => http2.listen(0, '127.0.0.1', r));
  const http2Port = (http2.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ grpc: grpcPort, http: httpPort, http2: http2Port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    http.closeAllConnections();
    http.close();
    http2.close();
    void grpc.stop(0).then(() => process.stderr.write(`transport peer: ${pushes} pushes\n`));
  });
}

main().catch((e: Error) => {
  process.stderr.write(`transport peer: ${e.message}\n`);
  process.exit(1);
});
