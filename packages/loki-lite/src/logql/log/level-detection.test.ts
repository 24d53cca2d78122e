import { describe, expect, it } from 'vitest';
import { detectLevel } from './level-detection.js';

describe('detected_level (Loki 3 discover_log_levels)', () => {
  it.each([
    ['a JSON level field', [], [], '{"lvl":"WARNING","msg":"x"}', 'warn'],
    ['a logfmt level field, quoted', [], [], 'ts=1 level="err" msg=boom', 'error'],
    ['a logfmt severity field', [], [], 'severity=trace x=1', 'trace'],
    ['an unknown field value falls back to keywords', [], [], 'level=notice msg="an error happened"', 'error'],
    ['keywords in plain text: info before error', [], [], 'INFO retrying after error', 'info'],
    ['keywords: warn:', [], [], 'warn: disk almost full', 'warn'],
    ['nothing recognizable', [], [], 'plain line', 'unknown'],
    ['a level label of the stream wins, as is', [{ name: 'level', value: 'Notice' }], [], 'level=error', 'Notice'],
    ['then a level in structured metadata', [], [{ name: 'severity', value: 'debug' }], 'ERROR', 'debug'],
  ])('%s', (_what, labels, metadata, line, want) => {
    expect(detectLevel(labels, metadata, line)).toBe(want);
  });

  it('leaves a line that already has detected_level alone', () => {
    expect(detectLevel([], [{ name: 'detected_level', value: 'info' }], 'error')).toBeUndefined();
  });
});
