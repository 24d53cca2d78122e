import { ConfigError } from '@loki-lite/shared';
import { parseConfig } from '../config/load.js';

/** The problems parseConfig reports for a config document; fails the test when it reports none. */
export function configProblems(text: string): readonly string[] {
  try {
    parseConfig(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
