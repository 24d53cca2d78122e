#!/usr/bin/env node
// The loki-lite agent: a Promtail-compatible DaemonSet log shipper. Flags as Promtail's: -config.file,
// -config.expand-env, -check-syntax, -client.url, -client.tenant-id, -positions.file, -server.http-listen-port.
import { main } from '../dist/main.js';

await main(process.argv.slice(2));
