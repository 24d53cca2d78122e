/** One label pair. Label sets are arrays of these sorted by name, with unique names. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

/** An entry's structured metadata when it has none: one shared, frozen empty list. */
export const NO_METADATA: Labels = Object.freeze([]);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

export function sortLabels(labels: Label[]): Label[] {
  return labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Returns the name of the first label that appears twice in a sorted label set, or undefined. */
export function findDuplicateLabelName(sorted: Labels): string | undefined {
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.name === sorted[i - 1]!.name) return sorted[i]!.name;
  }
  return undefined;
}

export function labelsFromRecord(record: Readonly<Record<string, string>>): Label[] {
  return sortLabels(Object.entries(record).map(([name, value]) => ({ name, value })));
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}
