import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { ClientConfig } from '../config/schema.js';

/*
 * One POST to a push endpoint over node's http/https with keep-alive, because the client's TLS options
 * (own CA, client certificate, server name, skipping verification) are per endpoint. Credentials in files
 * are read for each request, so a rotated secret is picked up without a restart.
 */

export interface PostResult {
  readonly status: number;
  readonly body: string;
}

export class HttpPoster {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: ClientConfig,
    private readonly userAgent: string,
  ) {
    this.url = new URL(config.url);
    this.timeoutMs = Number(config.timeout / 1_000_000n);
    const tls = config.tls_config;
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: tls.ca_file ? readFileSync(tls.ca_file) : undefined,
            cert: tls.cert_file ? readFileSync(tls.cert_file) : undefined,
            key: tls.key_file ? readFileSync(tls.key_file) : undefined,
            servername: tls.server_name || undefined,
            rejectUnauthorized: !tls.insecure_skip_verify,
          })
        : new http.Agent({ keepAlive: true });
  }

  post(body: Buffer, tenant: string): Promise<PostResult> {
    const headers: Record<string, string> = {
      ...this.config.headers,
      'Content-Type': 'application/x-protobuf',
      'Content-Length': String(body.length),
      'User-Agent': this.userAgent,
    };
    if (tenant !== '') headers['X-Scope-OrgID'] = tenant;
    const auth = this.authorization();
    if (auth) headers.Authorization = auth;
    const mod = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(this.url, { method: 'POST', headers, agent: this.agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 1024) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private authorization(): string | undefined {
    const c = this.config;
    if (c.basic_auth) {
      const user = c.basic_auth.username_file ? readSecret(c.basic_auth.username_file) : c.basic_auth.username;
      const password = c.basic_auth.password_file ? readSecret(c.basic_auth.password_file) : c.basic_auth.password;
      return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    const token = c.bearer_token_file ? readSecret(c.bearer_token_file) : c.bearer_token;
    return token ? `Bearer ${token}` : undefined;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A secret file's content without the trailing newline editors and `kubectl create secret` leave. */
function readSecret(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}
