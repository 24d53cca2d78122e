import { type Labels, printLabels, sortLabels } from '@loki-lite/shared';

/*
 * Loki 3's service_name discovery. The distributor applies it to every pushed stream, and WAL replay applies
 * it again to the streams of a logged push body (the WAL keeps the body as received, with the rule's label
 * list), so it lives here, where both can import it without the ingester reaching into the distributor.
 */

/** A stream's labels, sorted, with their printed form (the key streams are stored under). */
export interface ParsedStreamLabels {
  readonly labels: Labels;
  readonly labelsString: string;
}

/**
 * A stream without service_name gets the value of the first label in `discoverFrom` that it has with a
 * non-empty value (app, container, job, ... by default), or `unknown_service`. Logs Drilldown groups by it.
 * An empty list turns this off; a stream that has service_name keeps it.
 */
export function withServiceName(parsed: ParsedStreamLabels, discoverFrom: readonly string[]): ParsedStreamLabels {
  if (discoverFrom.length === 0 || parsed.labels.some((l) => l.name === 'service_name')) return parsed;
  let value = 'unknown_service';
  for (const name of discoverFrom) {
    const found = parsed.labels.find((l) => l.name === name && l.value !== '');
    if (found) {
      value = found.value;
      break;
    }
  }
  const labels = sortLabels([...parsed.labels, { name: 'service_name', value }]);
  return { labels, labelsString: printLabels(labels) };
}
