import { compileGoRegex, isValidLabelName, type Label } from '@loki-lite/shared';
import type { StageConfig } from '../config/schema.js';
import { parseRFC3339Bytes, type Timestamp } from '../decode/rfc3339.js';
import { jsonPath } from './json-path.js';
import { parseLogfmt } from './logfmt.js';
import { StageError } from './pipeline-error.js';

/*
 * Promtail's pipeline_stages, compiled once per scrape config. `cri` and `docker` are not per-line stages
 * here: they make the tailer decode container logs (the format is detected per file, so either stage reads
 * both), and, as in Promtail, add the `stream` label. When every other stage only sets or removes labels
 * (`static_labels`, `labeldrop`, `labelallow`), lines never become strings (the fast path: the stages run
 * once per file and stream, on its label set); any other stage runs per line on a PipelineEntry.
 */

export interface PipelineEntry {
  line: string;
  readonly labels: Map<string, string>;
  readonly extracted: Map<string, string>;
  seconds: number;
  nanos: number;
  metadata: Label[];
}

/** Runs on one entry; false drops it. */
export type LineStage = (e: PipelineEntry) => boolean;

export interface CompiledPipeline {
  /** A cri or docker stage: decode container log lines (timestamp, stream, partial lines). */
  readonly containerFormat: boolean;
  /** On the fast path, the label stages in order, applied to a file's label set once per stream. */
  readonly labelStages: readonly LabelStage[];
  /** Per-line stages; empty on the fast path. */
  readonly stages: readonly LineStage[];
}

/** A stage that only sets or removes labels. */
export type LabelStage = (labels: Map<string, string>) => void;

export { StageError };

type StageCompiler = (options: Record<string, unknown>) => LineStage;

/** Promtail's stages that work on labels alone, as label stages: the fast path runs them once per label set. */
const LABEL_COMPILERS: Readonly<Record<string, (options: unknown) => LabelStage>> = {
  static_labels: (o) => {
    const values = stringMap(o);
    return (labels) => {
      for (const [k, v] of values) labels.set(k, v);
    };
  },
  labeldrop: (o) => {
    const names = nameList(o, 'labeldrop');
    return (labels) => {
      for (const n of names) labels.delete(n);
    };
  },
  labelallow: (o) => {
    const names = new Set(nameList(o, 'labelallow'));
    return (labels) => {
      for (const k of [...labels.keys()]) if (!names.has(k) && !k.startsWith('__')) labels.delete(k);
    };
  },
};

/** A label stage as a per-line stage, for pipelines that are not all label stages. */
const onLine =
  (stage: LabelStage): LineStage =>
  (e) => {
    stage(e.labels);
    return true;
  };

const TIMESTAMP_FORMATS = ['RFC3339', 'RFC3339Nano', 'Unix', 'UnixMs', 'UnixUs', 'UnixNs'] as const;

const COMPILERS: Readonly<Record<string, StageCompiler>> = {
  labels: (o) => {
    const names = stringMap(o, true);
    return (e) => {
      for (const [name, source] of names) {
        const v = e.extracted.get(source || name);
        if (v !== undefined && v !== '') e.labels.set(name, v);
      }
      return true;
    };
  },
  structured_metadata: (o) => {
    const names = stringMap(o, true);
    return (e) => {
      for (const [name, source] of names) {
        const v = e.extracted.get(source || name);
        if (v !== undefined && v !== '') e.metadata = [...e.metadata, { name, value: v }];
      }
      return true;
    };
  },
  json: (o) => {
    const expressions = [...stringMap(o.expressions ?? {}, true)].map(([name, expr]) => [name, jsonPath(expr || name)] as const);
    const source = optionalString(o, 'source');
    const dropMalformed = o.drop_malformed === true;
    return (e) => {
      let doc: unknown;
      try {
        doc = JSON.parse(source === undefined ? e.line : (e.extracted.get(source) ?? ''));
      } catch {
        return !dropMalformed;
      }
      for (const [name, get] of expressions) {
        const v = get(doc);
        if (v === undefined || v === null) continue;
        e.extracted.set(name, typeof v === 'string' ? v : JSON.stringify(v));
      }
      return true;
    };
  },
  logfmt: (o) => {
    const mapping = [...stringMap(o.mapping ?? {}, true)];
    const source = optionalString(o, 'source');
    return (e) => {
      const fields = parseLogfmt(source === undefined ? e.line : (e.extracted.get(source) ?? ''));
      for (const [name, key] of mapping) {
        const v = fields.get(key || name);
        if (v !== undefined) e.extracted.set(name, v);
      }
      return true;
    };
  },
  regex: (o) => {
    const expression = requiredString(o, 'expression');
    const re = compileGoRegex(expression, false);
    if (!/\(\?P?<[A-Za-z_]/.test(expression)) throw new StageError('regex stage: the expression needs at least one named capture group');
    const source = optionalString(o, 'source');
    return (e) => {
      const m = re.exec(source === undefined ? e.line : (e.extracted.get(source) ?? ''));
      if (m?.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) e.extracted.set(k, v);
      return true;
    };
  },
  timestamp: (o) => {
    const source = requiredString(o, 'source');
    const format = requiredString(o, 'format');
    if (!(TIMESTAMP_FORMATS as readonly string[]).includes(format)) {
      throw new StageError(`timestamp stage: format ${JSON.stringify(format)} is not supported yet (one of ${TIMESTAMP_FORMATS.join(', ')})`);
    }
    const onFailure = optionalString(o, 'action_on_failure') ?? 'fudge';
    if (onFailure !== 'fudge' && onFailure !== 'skip') throw new StageError('timestamp stage: action_on_failure must be fudge or skip');
    const ts: Timestamp = { seconds: 0, nanos: 0 };
    return (e) => {
      const v = e.extracted.get(source);
      if (v !== undefined && parseTimestamp(v, format, ts)) {
        e.seconds = ts.seconds;
        e.nanos = ts.nanos;
      }
      return true;
    };
  },
  output: (o) => {
    const source = requiredString(o, 'source');
    return (e) => {
      const v = e.extracted.get(source);
      if (v !== undefined) e.line = v;
      return true;
    };
  },
  drop: (o) => {
    const source = optionalString(o, 'source');
    const expression = optionalString(o, 'expression');
    const re = expression === undefined ? undefined : compileGoRegex(expression, false);
    const value = optionalString(o, 'value');
    if (re && value !== undefined) throw new StageError('drop stage: expression and value cannot both be set');
    const longerThan = o.longer_than === undefined ? undefined : Number(o.longer_than);
    if (longerThan !== undefined && !Number.isFinite(longerThan)) throw new StageError('drop stage: longer_than must be a number of bytes');
    return (e) => {
      const subject = source === undefined ? e.line : e.extracted.get(source);
      if (source !== undefined && subject === undefined) return true;
      if (re && !re.test(subject!)) return true;
      if (value !== undefined && subject !== value) return true;
      if (longerThan !== undefined && Buffer.byteLength(e.line) <= longerThan) return true;
      return false;
    };
  },
};

/** Compiles a scrape config's pipeline_stages; throws StageError naming the first problem. */
export function compilePipeline(stages: readonly StageConfig[]): CompiledPipeline {
  let containerFormat = false;
  let onlyLabels = true;
  const lineStages: LineStage[] = [];
  const labelStages: LabelStage[] = [];
  stages.forEach((stage, i) => {
    const [name, raw] = Object.entries(stage)[0]!;
    if (name === 'cri' || name === 'docker') {
      containerFormat = true;
      return;
    }
    const labelCompile = LABEL_COMPILERS[name];
    const compile = COMPILERS[name];
    if (!labelCompile && !compile) {
      throw new StageError(
        `stage ${i}: ${JSON.stringify(name)} is not a pipeline stage the agent supports (supported: cri, docker, ${[...Object.keys(LABEL_COMPILERS), ...Object.keys(COMPILERS)].join(', ')})`,
      );
    }
    try {
      if (labelCompile) {
        const s = labelCompile(raw ?? {});
        labelStages.push(s);
        lineStages.push(onLine(s));
        return;
      }
      const options = (raw ?? {}) as Record<string, unknown>;
      if (typeof options !== 'object' || Array.isArray(options)) throw new StageError('options must be a mapping');
      lineStages.push(compile!(options));
      onlyLabels = false;
    } catch (e) {
      throw new StageError(`stage ${i} (${name}): ${(e as Error).message.replace(/^\w+ stage: /, '')}`);
    }
  });
  if (onlyLabels) return { containerFormat, labelStages, stages: [] };
  return { containerFormat, labelStages: [], stages: lineStages };
}

/** A stage whose options are a list of label names (labeldrop, labelallow). */
function nameList(value: unknown, stage: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !isValidLabelName(v)))
    throw new StageError(`${stage} stage: expected a list of label names`);
  return value as string[];
}

function stringMap(value: unknown, allowEmpty = false): Map<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new StageError('expected a mapping of names');
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!isValidLabelName(k)) throw new StageError(`${JSON.stringify(k)} is not a valid label name`);
    if (v === null || v === undefined) {
      if (!allowEmpty) throw new StageError(`${k}: a value is required`);
      out.set(k, '');
    } else out.set(k, String(v));
  }
  return out;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new StageError(`${key} must be a string`);
  return v;
}

function requiredString(o: Record<string, unknown>, key: string): string {
  const v = optionalString(o, key);
  if (v === undefined || v === '') throw new StageError(`${key} is required`);
  return v;
}

function parseTimestamp(v: string, format: string, out: Timestamp): boolean {
  if (format === 'RFC3339' || format === 'RFC3339Nano') {
    const b = Buffer.from(v);
    return parseRFC3339Bytes(b, 0, b.length, out);
  }
  if (!/^-?\d+(\.\d+)?$/.test(v)) return false;
  const [whole, frac = ''] = v.split('.');
  const n = Number(whole);
  const perSecond = format === 'Unix' ? 1 : format === 'UnixMs' ? 1e3 : format === 'UnixUs' ? 1e6 : 1e9;
  out.seconds = Math.floor(n / perSecond);
  out.nanos = Math.round((n - out.seconds * perSecond) * (1e9 / perSecond) + (format === 'Unix' ? Number(`0.${frac || '0'}`) * 1e9 : 0));
  return true;
}
