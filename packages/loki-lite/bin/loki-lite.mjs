#!/usr/bin/env node
// loki-lite: a Loki-compatible log store. Flags as Loki's: -config.file, -config.expand-env, -target,
// -server.http-listen-port. Without -config.file it runs the embedded default (./data, tenant "fake").
import { main } from '../dist/main.js';

await main(process.argv.slice(2));
