import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePushBody } from '@loki-lite/shared';

/*
 * A proxy in front of a push endpoint that keeps, push by push, the lines the server acknowledged: what a
 * test needs to tell a line sent twice, and by which push, from one never sent. While the server is
 * unreachable it drops the agent's connection, as the server's absence would.
 */

export interface PushRecorder {
  /** Push URL to give the agent. */
  readonly pushUrl: string;
  /** The lines of every push the server answered 2xx, in the order of the answers. */
  readonly acknowledged: ReadonlyArray<readonly string[]>;
  close(): Promise<void>;
}

export async function startPushRecorder(serverUrl: string): Promise<PushRecorder> {
  const acknowledged: string[][] = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'content-encoding', 'x-scope-orgid']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(`${serverUrl}${req.url}`, { method: 'POST', headers, body }).then(
        async (answer) => {
          const text = await answer.text();
          if (answer.ok) acknowledged.push(linesOf(body, headers));
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(text);
        },
        () => req.socket.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    pushUrl: `http://127.0.0.1:${port}/loki/api/v1/push`,
    acknowledged,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

function linesOf(body: Buffer, headers: Record<string, string>): string[] {
  const request = decodePushBody(body, { contentType: headers['content-type'], contentEncoding: headers['content-encoding'], maxMessageBytes: 100 << 20 });
  const lines: string[] = [];
  for (const stream of request.streams) for (let i = 0; i < stream.entries.count; i++) lines.push(stream.entries.line(i));
  return lines;
}
