import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on, for a server started later (tests and the bench), or
 * never. Another process may take it meanwhile; a caller that must not fail retries with a new one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
