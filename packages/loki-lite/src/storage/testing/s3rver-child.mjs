// Runs s3rver (a real S3-protocol server) for tests. Started by testing/s3rver.ts as a child process with
// --openssl-legacy-provider, which s3rver 3.7.1 needs for its ListObjectsV2 continuation tokens on OpenSSL 3.
// Prints {"port":N} once listening; exits when its parent closes stdin.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const [directory] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, resetOnClose: true });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  process.exit(0);
});
