import type { Label, Labels } from '@loki-lite/shared';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';

/** Where a label of a log line came from; Loki's categorize-labels answer keeps them apart. */
export const enum Category {
  Stream = 0,
  StructuredMetadata = 1,
  Parsed = 2,
}

/** A label a stage set, and the line (LabelsBuilder.line) it was set on. */
interface AddedLabel {
  value: string;
  category: Category;
  line: number;
}

/** How many label entries a builder keeps for reuse across lines before it starts afresh. */
const MAX_REUSED_LABELS = 256;

/**
 * The labels of one log line while a pipeline runs over it, as Loki's LabelsBuilder: the stream's labels,
 * the line's structured metadata, and what parsers and label_format add, with deletions and the error
 * labels. One builder serves every line of a stream; `reset` starts the next line.
 */
export class LabelsBuilder {
  private readonly base: ReadonlyMap<string, string>;
  /**
   * Labels set by stages (and structured metadata), by name. Entries outlive their line, to be reused by
   * the next (a parser sets the same names on every line): one is set on this line when its `line` is
   * `this.line`. `order[0, orderLength)` has this line's names in the order first set (the array is
   * reused: truncating it with `length = 0` on every line is a slow path in V8).
   */
  private readonly added = new Map<string, AddedLabel>();
  private readonly order: string[] = [];
  private orderLength = 0;
  private line = 0;
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

  constructor(
    readonly streamLabels: Labels,
    private readonly wanted?: ReadonlySet<string>,
  ) {
    this.base = new Map(streamLabels.map((l) => [l.name, l.value]));
    this.streamKey = streamLabels.map((l) => `${l.name}\xff${l.value}\xfe`).join('');
  }

  reset(metadata: readonly Label[]): void {
    if (this.touched || this.error !== '' || this.errorDetails !== '' || metadata.length > 0) this.cached = undefined;
    this.line++;
    this.orderLength = 0;
    // Lines with ever new names (unhinted parsers over varied keys) would grow the map without end.
    if (this.added.size > MAX_REUSED_LABELS) this.added.clear();
    // Clearing an empty Set still allocates a new table in V8: most lines leave it empty.
    if (this.deleted.size > 0) this.deleted.clear();
    this.error = '';
    this.errorDetails = '';
    this.touched = metadata.length > 0;
    for (const l of metadata) this.put(l.name, l.value, Category.StructuredMetadata);
  }

  /** This line's entry for `name`, if a stage set it. */
  private current(name: string): AddedLabel | undefined {
    const a = this.added.get(name);
    return a !== undefined && a.line === this.line ? a : undefined;
  }

  /** Sets `name` on this line, reusing its entry from an earlier line if there is one. */
  private put(name: string, value: string, category: Category): void {
    const a = this.added.get(name);
    if (a === undefined) this.added.set(name, { value, category, line: this.line });
    else {
      a.value = value;
      a.category = category;
      a.line = this.line;
    }
    this.order[this.orderLength++] = name;
  }

  private removeFromOrder(name: string): void {
    const at = this.order.indexOf(name);
    if (at < 0 || at >= this.orderLength) return;
    this.order.copyWithin(at, at + 1, this.orderLength);
    this.orderLength--;
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
    if (this.deleted.size > 0 && this.deleted.has(name)) return undefined;
    return this.current(name)?.value ?? this.base.get(name);
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
    if (this.deleted.size > 0) this.deleted.delete(name);
    const existing = this.current(name);
    if (existing) existing.value = value;
    else this.put(name, value, this.base.has(name) && category === Category.Parsed ? Category.Stream : category);
    this.cached = undefined;
  }

  delete(name: string): void {
    if (name === ERROR_LABEL) this.error = '';
    else if (name === ERROR_DETAILS_LABEL) this.errorDetails = '';
    else {
      this.touched = true;
      if (this.current(name)) {
        this.added.delete(name);
        this.removeFromOrder(name);
      }
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
    for (const name of this.base.keys()) if (!this.deleted.has(name) && !this.current(name)) out.push(name);
    for (let i = 0; i < this.orderLength; i++) out.push(this.order[i]!);
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
      const over = this.current(l.name);
      if (!over) stream.push(l);
      else if (over.category === Category.Stream) stream.push({ name: l.name, value: over.value });
    }
    for (let i = 0; i < this.orderLength; i++) {
      const name = this.order[i]!;
      const { value, category } = this.added.get(name)!;
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
    if (this.orderLength === 0 && this.deleted.size === 0 && this.error === '' && !this.errorDetailsShown()) {
      this.cached = { labels: this.streamLabels, key: this.streamKey };
      return this.cached;
    }
    const labels: Label[] = [];
    for (const l of this.streamLabels) if (!this.deleted.has(l.name) && !this.current(l.name)) labels.push(l);
    for (let i = 0; i < this.orderLength; i++) {
      const name = this.order[i]!;
      labels.push({ name, value: this.added.get(name)!.value });
    }
    if (this.error !== '') labels.push({ name: ERROR_LABEL, value: this.error });
    if (this.errorDetailsShown()) labels.push({ name: ERROR_DETAILS_LABEL, value: this.errorDetails });
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let key = '';
    for (const l of labels) key += `${l.name}\xff${l.value}\xfe`;
    this.cached = { labels, key };
    return this.cached;
  }
}
