import { parentPort } from 'node:worker_threads';
import { LokiError } from '@loki-lite/shared';
import type { ChunkRef } from '../../index/types.js';
import { foldBuffers } from '../../logql/engine/fold.js';
import { sampleListBuffers } from '../sample-lists.js';
import { runShard, type ShardResult } from '../shard.js';
import { queryTimeoutError } from '../types.js';
import { type FromPool, fromWire, type ToPool, wireError } from './protocol.js';

/*
 * A query worker thread: runs the shards the pool sends, one at a time, and asks the pool for the stored
 * chunks they read (the object store stays on the server's thread, with its clients and caches). It keeps
 * no state between shards but the parsed queries.
 */

const port = parentPort;
if (!port) throw new Error('shard-worker.js runs as a worker thread of the query pool');

/** Chunk reads waiting for the pool's answer, by request number. */
const chunkReads = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }>();
let nextRead = 0;

function getChunk(tenant: string, ref: ChunkRef): Promise<Uint8Array> {
  const read = nextRead++;
  return new Promise((resolve, reject) => {
    chunkReads.set(read, { resolve, reject });
    send({ type: 'chunk', read, tenant, ref });
  });
}

function send(msg: ToPool, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function run(msg: Extract<FromPool, { type: 'run' }>): Promise<void> {
  const { id, task, stop, deadlineMs } = msg;
  try {
    const result = await runShard(task, {
      getChunk,
      checkStopped() {
        if (Atomics.load(stop, 0) !== 0) throw new LokiError('canceled', 'query_canceled', 'the query was canceled');
        if (deadlineMs !== undefined && Date.now() > deadlineMs) throw queryTimeoutError();
      },
    });
    send({ type: 'done', id, result }, transferList(result));
  } catch (e) {
    send({ type: 'failed', id, error: wireError(e) });
  }
}

/** The result's typed arrays move to the pool instead of being copied. */
function transferList(result: ShardResult): ArrayBuffer[] {
  if (result.kind === 'fold') return foldBuffers(result.state);
  return result.kind === 'stream-samples' ? sampleListBuffers(result.streams) : [];
}

port.on('message', (msg: FromPool) => {
  switch (msg.type) {
    case 'run':
      void run(msg);
      break;
    case 'chunk': {
      const read = chunkReads.get(msg.read);
      if (!read) return;
      chunkReads.delete(msg.read);
      if (msg.error) read.reject(fromWire(msg.error));
      else read.resolve(msg.bytes!);
      break;
    }
  }
});
