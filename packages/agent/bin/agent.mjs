#!/usr/bin/env node
// The loki-lite agent: a Promtail-compatible DaemonSet log shipper. Flags as Promtail's: -config.file,
// -config.expand-env, -check-syntax, -client.url, -client.tenant-id, -positions.file, -server.http-listen-port.
import { setFlagsFromString } from 'node:v8';

// A node agent should be small: V8 then sizes its heap and code for memory before speed. It must be set
// before the modules load (NODE_OPTIONS does not take it), and costs no measurable throughput here
// (bench/README.md, agent).
setFlagsFromString('--optimize-for-size');
const { main } = await import('../dist/main.js');
await main(process.argv.slice(2));
