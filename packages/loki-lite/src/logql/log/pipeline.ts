import { type Conversion, goParseDurationSeconds, goParseFloat, humanBytes, type Label, type Labels } from '@loki-lite/shared';
import type { LabelFormatStage, LabelSelection, LineFormatStage, PipelineStage, Unwrap } from '../syntax/ast.js';
import { compileLabelFilter } from './label-filter.js';
import { LabelsBuilder } from './labels-builder.js';
import { compileLineFilter } from './line-filter.js';
import { jsonStage, logfmtStage, patternStage, regexpStage, type Stage, unpackStage } from './parsers.js';
import { compileTemplate } from './template/exec.js';
import { TemplateError } from './template/parse.js';

export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';
export const SAMPLE_EXTRACTION_ERR = 'SampleExtractionErr';

/** The outcome for one line: its (possibly rewritten) text and its labels. */
export interface ProcessedLine {
  line: string;
  labels: Labels;
  key: string;
}

/** A pipeline bound to one stream; `process` runs per line and returns undefined for a dropped line. */
export interface StreamPipeline {
  /** Runs the stages over one line: its new text, or undefined when a stage drops it. */
  run(line: string, ts: bigint, metadata: readonly Label[]): string | undefined;
  /** `run`, then the line's labels. */
  process(line: string, ts: bigint, metadata: readonly Label[]): ProcessedLine | undefined;
  /** The labels of the last line run (`result()`), and where the unwrap step reads its value. */
  readonly builder: LabelsBuilder;
}

/** A compiled pipeline: stages are built once per query and instantiated per stream (they hold caches). */
export interface Pipeline {
  forStream(labels: Labels): StreamPipeline;
}

const ANSI = /\x1b\[[0-9;]*[a-zA-Z]/g;

function selected(name: string, value: string, selection: readonly LabelSelection[]): boolean {
  return selection.some((s) => s.name === name && (!s.matcher || s.matcher.matches(value)));
}

/** `| keep`: every label not selected is deleted. */
function keepStage(selection: readonly LabelSelection[]): Stage {
  return (line, _ts, b) => {
    for (const name of b.names()) {
      if (!selected(name, b.get(name) ?? '', selection)) b.delete(name);
    }
    return line;
  };
}

/**
 * `| drop`, as Loki's DropLabels: each selection in turn. __error__ and __error_details__ are reset on
 * their own (dropping one leaves the other set; whether the details still show is the builder's rule);
 * a label with a matcher is deleted when its value, '' when absent, matches.
 */
function dropStage(selection: readonly LabelSelection[]): Stage {
  return (line, _ts, b) => {
    for (const { name, matcher } of selection) {
      const value = b.get(name);
      if (matcher ? matcher.matches(value ?? '') : value !== undefined) b.delete(name);
    }
    return line;
  };
}

/** The template data: every current label; Loki hands templates a map of them. */
function templateData(b: LabelsBuilder): Map<string, string> {
  const data = new Map<string, string>();
  for (const name of b.names()) data.set(name, b.get(name) ?? '');
  return data;
}

function lineFormatStage(stage: LineFormatStage): Stage {
  const template = compileTemplate(stage.template, 'line');
  return (line, ts, b) => {
    try {
      return template.execute({ data: templateData(b), line, timestamp: ts });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      b.setError(TEMPLATE_FORMAT_ERR, e.message);
      return line;
    }
  };
}

function labelFormatStage(stage: LabelFormatStage): Stage {
  const formats = stage.formats.map((f) => ({ ...f, compiled: f.template !== undefined ? compileTemplate(f.template, 'label') : undefined }));
  return (line, ts, b) => {
    let data: Map<string, string> | undefined;
    for (const f of formats) {
      if (f.rename !== undefined) {
        const v = b.get(f.rename);
        if (v !== undefined) {
          b.set(f.name, v);
          b.delete(f.rename);
        }
        continue;
      }
      data ??= templateData(b);
      try {
        b.set(f.name, f.compiled!.execute({ data, line, timestamp: ts }));
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        b.setError(TEMPLATE_FORMAT_ERR, e.message);
      }
    }
    return line;
  };
}

/** One factory per stage: parsers keep per-stream caches of label names. */
function stageFactory(stage: PipelineStage, wanted: ReadonlySet<string> | undefined): () => Stage {
  switch (stage.kind) {
    case 'line_filter': {
      const test = compileLineFilter(stage);
      return () => (line) => (test(line) ? line : undefined);
    }
    case 'json':
      return jsonStage(stage, wanted && [...wanted]);
    // Hints include __error__ when a stage reads it: logfmt then scans every line to its end (it stops
    // early only once it has every hinted label), so a syntax error late in a line is still seen.
    case 'logfmt':
      return logfmtStage(stage, wanted && [...wanted]);
    case 'regexp':
      return regexpStage(stage);
    case 'pattern':
      return patternStage(stage);
    case 'unpack':
      return unpackStage();
    case 'decolorize':
      return () => (line) => line.replace(ANSI, '');
    case 'line_format': {
      const s = lineFormatStage(stage);
      return () => s;
    }
    case 'label_format': {
      const s = labelFormatStage(stage);
      return () => s;
    }
    case 'drop':
    case 'keep': {
      const s = stage.kind === 'drop' ? dropStage(stage.labels) : keepStage(stage.labels);
      return () => s;
    }
    case 'label_filter': {
      const test = compileLabelFilter(stage.filter);
      return () => (line, _ts, b) => (test(b) ? line : undefined);
    }
  }
}

/** `wanted`: when known, the only labels parsers need to extract (Loki's parser hints). */
export function compilePipeline(stages: readonly PipelineStage[], wanted?: ReadonlySet<string>): Pipeline {
  const factories = stages.map((s) => stageFactory(s, wanted));
  return {
    forStream(labels) {
      const run = factories.map((f) => f());
      const builder = new LabelsBuilder(labels, wanted);
      const runLine = (line: string, ts: bigint, metadata: readonly Label[]): string | undefined => {
        builder.reset(metadata);
        let current: string | undefined = line;
        for (let i = 0; i < run.length && current !== undefined; i++) current = run[i]!(current, ts, builder);
        return current;
      };
      return {
        builder,
        run: runLine,
        process(line, ts, metadata) {
          const current = runLine(line, ts, metadata);
          if (current === undefined) return undefined;
          const { labels: out, key } = builder.result();
          return { line: current, labels: out, key };
        },
      };
    },
  };
}

const UNWRAP_CONVERSIONS: Readonly<Record<'bytes' | 'duration' | 'duration_seconds' | 'float', (s: string) => Conversion>> = {
  float: goParseFloat,
  bytes: humanBytes,
  duration: goParseDurationSeconds,
  duration_seconds: goParseDurationSeconds,
};

/**
 * The unwrap step: reads the label's value as a number (after its conversion), removes the label, marks a
 * failed conversion with __error__=SampleExtractionErr, then runs the post-unwrap label filters. Returns
 * the value, or undefined when the line has no such label or a filter drops it.
 */
export function compileUnwrap(unwrap: Unwrap): (b: LabelsBuilder) => number | undefined {
  const convert = UNWRAP_CONVERSIONS[unwrap.conversion ?? 'float'];
  const filters = unwrap.filters.map(compileLabelFilter);
  return (b) => {
    const raw = b.get(unwrap.name) ?? '';
    // A line without the label is simply not a sample (Loki, grafana/loki#6713).
    if (raw === '') return undefined;
    const c = convert(raw);
    let value = 0;
    if (c.ok) value = c.value;
    else b.setError(SAMPLE_EXTRACTION_ERR, c.error);
    b.delete(unwrap.name);
    for (const f of filters) if (!f(b)) return undefined;
    return value;
  };
}
