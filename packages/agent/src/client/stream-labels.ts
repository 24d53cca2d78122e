import { type Label, printLabels, sortLabels } from '@loki-lite/shared';

/**
 * A stream's labels with their printed form per client, worked out once: a client's external_labels are
 * added under the stream's own labels (the stream's value wins, as in Promtail).
 */
export class StreamLabels {
  private readonly printed: Array<string | undefined> = [];

  constructor(readonly labels: ReadonlyMap<string, string>) {}

  printedFor(client: number, external: ReadonlyMap<string, string>): string {
    let s = this.printed[client];
    if (s === undefined) {
      const merged = new Map(external);
      for (const [k, v] of this.labels) merged.set(k, v);
      const list: Label[] = [...merged].map(([name, value]) => ({ name, value }));
      s = printLabels(sortLabels(list));
      this.printed[client] = s;
    }
    return s;
  }
}
