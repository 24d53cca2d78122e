import http from 'node:http';
import type { Registry } from 'prom-client';

/** The agent's own HTTP endpoints: `/metrics` for Prometheus and `/ready` for the kubelet's probe. */
export function startAgentServer(address: string, port: number, registry: Registry, ready: () => boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (e: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(e.message);
        },
      );
      return;
    }
    if (req.method === 'GET' && url === '/ready') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ok ? 'Ready\n' : 'Not ready\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('404 page not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address || undefined, () => resolve(server));
  });
}
