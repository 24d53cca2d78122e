import type { Label, Labels } from '@loki-lite/shared';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';

/** Where a label of a log line came from; Loki's categorize-labels answer keeps them apart. */
export const enum Category {
  Stream = 0,
  StructuredMetadata = 1,
  Parsed = 2,
}

/**
 * The labels of one log line while a pipeline runs over it, as Loki's LabelsBuilder: the stream's labels,
 * the line's structured metadata, and what parsers and label_format add, with deletions and the error
 * labels. One builder serves every line of a stream; `reset` starts the next line.
 */
export class LabelsBuilder {
  private readonly base: ReadonlyMap<string, string>;
  /** Labels set by stages (and structured metadata), by name, in the order first set. */
  private readonly added = new Map<string, { value: string; category: Category }>();
  private readonly deleted = new Set<string>();
  private error = '';
  private errorDetails = '';
  /**
   * Whether a stage set or deleted a label on this line (or the line has structured metadata): Loki's
   * LabelsBuilder then has a non-empty add or del list, and only then, or with __error__ set, does its
   * answer carry __error_details__ (see errorDetailsShown).
   */
  private touched = false;
  /** Result cache: the label set only changes when a stage changed something. */
  private cached: { labels: Labels; key: string } | undefined;

  /** `wanted`: parsed labels outside this set are not kept (nothing downstream reads them). */
  private readonly streamKey: string;

  constructor(readonly streamLabels: Labels, private readonly wanted?: ReadonlySet<string>) {
    this.base = new Map(streamLabels.map((l) => [l.name, l.value]));
    this.streamKey = streamLabels.map((l) => `${l.name}\xff${l.value}\xfe`).join('');
  }

  reset(metadata: readonly Label[]): void {
    if (this.touched || this.error !== '' || this.errorDetails !== '' || metadata.length > 0) this.cached = undefined;
    // clear() gives a map a new table even when it is empty: most lines set no label, so only clear what holds some.
    if (this.added.size > 0) this.added.clear();
    if (this.deleted.size > 0) this.deleted.clear();
    this.error = '';
    this.errorDetails = '';
    this.touched = metadata.length > 0;
    for (const l of metadata) this.added.set(l.name, { value: l.value, category: Category.StructuredMetadata });
  }

  /** Whether a parsed label of this name is kept (false when parser hints say nothing reads it). */
  wants(name: string): boolean {
    return this.wanted === undefined || this.wanted.has(name);
  }

  /** Whether the stream itself has this label (parsers then name theirs `<name>_extracted`). */
  baseHas(name: string): boolean {
    return this.base.has(name);
  }

  get(name: string): string | undefined {
    if (name === ERROR_LABEL) return this.error === '' ? undefined : this.error;
    if (name === ERROR_DETAILS_LABEL) return this.errorDetails === '' ? undefined : this.errorDetails;
    if (this.deleted.has(name)) return undefined;
    return this.added.get(name)?.value ?? this.base.get(name);
  }

  set(name: string, value: string, category = Category.Parsed): void {
    if (name === ERROR_LABEL) {
      this.setError(value);
      return;
    }
    if (name === ERROR_DETAILS_LABEL) {
      this.errorDetails = value;
      this.cached = undefined;
      return;
    }
    if (this.wanted && category === Category.Parsed && !this.wanted.has(name)) return;
    this.touched = true;
    this.deleted.delete(name);
    const existing = this.added.get(name);
    if (existing) existing.value = value;
    else this.added.set(name, { value, category: this.base.has(name) && category === Category.Parsed ? Category.Stream : category });
    this.cached = undefined;
  }

  delete(name: string): void {
    if (name === ERROR_LABEL) this.error = '';
    else if (name === ERROR_DETAILS_LABEL) this.errorDetails = '';
    else {
      this.touched = true;
      this.added.delete(name);
      if (this.base.has(name)) this.deleted.add(name);
    }
    this.cached = undefined;
  }

  /**
   * Whether the line's labels carry __error_details__. Loki 2.8's LabelsBuilder.LabelsResult (and Map, which
   * templates read) answers the stream's own labels unchanged when no label was added or deleted and
   * __error__ is empty, details or not: so after `| logfmt | drop __error__` (drop resets __error__ only)
   * a line the parser took nothing from shows no details, while one it took a label from still does.
   */
  errorDetailsShown(): boolean {
    return this.errorDetails !== '' && (this.error !== '' || this.touched);
  }

  hasError(): boolean {
    return this.error !== '';
  }

  setError(error: string, details = ''): void {
    this.error = error;
    if (details !== '') this.errorDetails = details;
    this.cached = undefined;
  }

  /** Every label name currently present (drop/keep, label_format's template data). */
  names(): string[] {
    const out: string[] = [];
    for (const name of this.base.keys()) if (!this.deleted.has(name) && !this.added.has(name)) out.push(name);
    for (const name of this.added.keys()) out.push(name);
    if (this.error !== '') out.push(ERROR_LABEL);
    if (this.errorDetailsShown()) out.push(ERROR_DETAILS_LABEL);
    return out;
  }

  /**
   * The labels by category, for Loki's categorize-labels answers: the stream's own (after drop/keep, with
   * any a stage overwrote), then structured metadata and parsed labels (errors count as parsed), sorted.
   */
  categorized(): { stream: { labels: Labels; key: string }; structuredMetadata: Label[]; parsed: Label[] } {
    const stream: Label[] = [];
    const structuredMetadata: Label[] = [];
    const parsed: Label[] = [];
    for (const l of this.streamLabels) {
      if (this.deleted.has(l.name)) continue;
      const over = this.added.get(l.name);
      if (!over) stream.push(l);
      else if (over.category === Category.Stream) stream.push({ name: l.name, value: over.value });
    }
    for (const [name, { value, category }] of this.added) {
      if (category === Category.StructuredMetadata) structuredMetadata.push({ name, value });
      else if (category === Category.Parsed || !this.base.has(name)) parsed.push({ name, value });
    }
    if (this.error !== '') parsed.push({ name: ERROR_LABEL, value: this.error });
    if (this.errorDetailsShown()) parsed.push({ name: ERROR_DETAILS_LABEL, value: this.errorDetails });
    const byName = (a: Label, b: Label) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    stream.sort(byName);
    structuredMetadata.sort(byName);
    parsed.sort(byName);
    let key = '';
    for (const l of stream) key += `${l.name}\xff${l.value}\xfe`;
    return { stream: { labels: stream, key }, structuredMetadata, parsed };
  }

  /**
   * The line's label set, sorted, with a grouping key: equal keys mean equal label sets (the key is not
   * the printed form, which costs a quoting pass per value).
   */
  result(): { labels: Labels; key: string } {
    if (this.cached) return this.cached;
    if (this.added.size === 0 && this.deleted.size === 0 && this.error === '' && !this.errorDetailsShown()) {
      this.cached = { labels: this.streamLabels, key: this.streamKey };
      return this.cached;
    }
    const labels: Label[] = [];
    for (const l of this.streamLabels) if (!this.deleted.has(l.name) && !this.added.has(l.name)) labels.push(l);
    for (const [name, { value }] of this.added) labels.push({ name, value });
    if (this.error !== '') labels.push({ name: ERROR_LABEL, value: this.error });
    if (this.errorDetailsShown()) labels.push({ name: ERROR_DETAILS_LABEL, value: this.errorDetails });
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let key = '';
    for (const l of labels) key += `${l.name}\xff${l.value}\xfe`;
    this.cached = { labels, key };
    return this.cached;
  }
}
