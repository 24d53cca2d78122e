import type { Label } from '@loki-lite/shared';
import type { LokiClient } from '../client/client.js';
import { StreamLabels } from '../client/stream-labels.js';
import { type DecodedEntry, type LogFormat, STREAM_NAMES } from '../decode/container-log.js';
import type { PipelineEntry } from '../pipeline/pipeline.js';
import type { Target } from '../discovery/target.js';
import type { FileProgress } from './progress.js';

/*
 * Where a tailed file's decoded entries go: through the target's pipeline to the client whose reader
 * decoded them (each client reads the file on its own, see tailed-file.ts). On the fast path
 * (no per-line stage) an entry's labels are one of two precomputed sets (per stdout/stderr) and its line
 * bytes go from the read buffer into each client's batch without becoming a string.
 */

const MAX_LABEL_SETS = 1000;

export class FileOutput {
  private readonly perStream: Array<StreamLabels | undefined> = [undefined, undefined];
  private readonly labelSets = new Map<string, StreamLabels>();
  private readonly base: ReadonlyMap<string, string>;
  /** Entries dropped by the pipeline since the last read (counted by the tailer). */
  droppedByPipeline = 0;

  constructor(
    private readonly target: Target,
    filePath: string,
    private readonly clients: readonly LokiClient[],
    private readonly progress: () => FileProgress,
    private readonly format: () => LogFormat | undefined,
  ) {
    const base = new Map(target.labels);
    base.set('filename', filePath);
    for (const [k, v] of target.labelsFromPath(filePath)) if (!base.has(k)) base.set(k, v);
    this.base = base;
  }

  emit(client: number, e: DecodedEntry): void {
    if (this.target.pipeline.stages.length === 0) return this.send(client, this.streamLabels(e.stream), e, e.buf, e.start, e.end, undefined);
    this.runStages(client, e);
  }

  private streamLabels(stream: 0 | 1): StreamLabels {
    let s = this.perStream[stream];
    if (s === undefined) {
      const labels = this.labelsWithStream(stream);
      for (const stage of this.target.pipeline.labelStages) stage(labels);
      s = new StreamLabels(labels);
      this.perStream[stream] = s;
    }
    return s;
  }

  /** Promtail's cri and docker stages add the `stream` label; raw lines have none. */
  private labelsWithStream(stream: 0 | 1): Map<string, string> {
    const labels = new Map(this.base);
    if (this.target.pipeline.containerFormat && this.format() !== 'raw') labels.set('stream', STREAM_NAMES[stream]);
    return labels;
  }

  private runStages(client: number, e: DecodedEntry): void {
    const entry: PipelineEntry = {
      line: Buffer.from(e.buf.buffer, e.buf.byteOffset + e.start, e.end - e.start).toString('utf8'),
      labels: this.labelsWithStream(e.stream),
      extracted: new Map(this.target.pipeline.containerFormat ? [['stream', STREAM_NAMES[e.stream]]] : []),
      seconds: e.seconds,
      nanos: e.nanos,
      metadata: [],
    };
    for (const stage of this.target.pipeline.stages) {
      if (!stage(entry)) {
        this.droppedByPipeline++;
        return;
      }
    }
    const key = [...entry.labels].map(([k, v]) => `${k}\u0000${v}`).join('\u0001');
    let labels = this.labelSets.get(key);
    if (labels === undefined) {
      if (this.labelSets.size >= MAX_LABEL_SETS) this.labelSets.clear();
      labels = new StreamLabels(new Map([...entry.labels].filter(([k]) => !k.startsWith('__'))));
      this.labelSets.set(key, labels);
    }
    const line = Buffer.from(entry.line);
    e.seconds = entry.seconds;
    e.nanos = entry.nanos;
    this.send(client, labels, e, line, 0, line.length, entry.metadata.length > 0 ? entry.metadata : undefined);
  }

  private send(
    client: number,
    labels: StreamLabels,
    e: DecodedEntry,
    buf: Uint8Array,
    start: number,
    end: number,
    metadata: readonly Label[] | undefined,
  ): void {
    this.clients[client]!.add(labels, e.seconds, e.nanos, buf, start, end, metadata, this.progress(), e.resumeOffset);
  }
}
