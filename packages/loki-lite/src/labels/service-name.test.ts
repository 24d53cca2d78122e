import { parseLabels, printLabels } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { withServiceName } from './service-name.js';

function parsed(raw: string) {
  const labels = parseLabels(raw);
  return { labels, labelsString: printLabels(labels) };
}

const DISCOVER = ['service', 'app', 'container', 'job'];

describe('withServiceName', () => {
  it('takes the first listed label the stream has, in list order, not label order', () => {
    expect(withServiceName(parsed('{job="ns/x", app="trainer"}'), DISCOVER).labelsString).toBe('{app="trainer", job="ns/x", service_name="trainer"}');
  });

  it('skips a listed label whose value is empty', () => {
    expect(withServiceName(parsed('{app="", container="sidecar"}'), DISCOVER).labelsString).toBe('{app="", container="sidecar", service_name="sidecar"}');
  });

  it('falls back to unknown_service, sorted in among the labels', () => {
    const got = withServiceName(parsed('{team="ml", a="1"}'), DISCOVER);
    expect(got.labels.map((l) => l.name)).toEqual(['a', 'service_name', 'team']);
    expect(got.labelsString).toBe('{a="1", service_name="unknown_service", team="ml"}');
  });

  it('keeps a service_name that is set, and returns the same object', () => {
    const given = parsed('{service_name="given", app="other"}');
    expect(withServiceName(given, DISCOVER)).toBe(given);
  });

  it('does nothing when the list is empty (discovery turned off)', () => {
    const given = parsed('{app="x"}');
    expect(withServiceName(given, [])).toBe(given);
  });
});
