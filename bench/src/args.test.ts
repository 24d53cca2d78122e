import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';

describe('bench flags', () => {
  const defaults = { url: '', mb: '300', runs: '3' };

  it('reads --name value and --name=value over the defaults, and skips the -- that pnpm passes through', () => {
    expect(parseArgs(['--', '--mb', '1100', '--runs=2'], defaults)).toEqual({ url: '', mb: '1100', runs: '2' });
  });

  it('reads --json as a switch, and takes a value that starts with -- as a value', () => {
    const withJson = { ...defaults, json: '', 'agent-args': '' };
    expect(parseArgs(['--json', '--runs', '2'], withJson)).toMatchObject({ json: 'true', runs: '2' });
    expect(parseArgs(['--agent-args', '--max-semi-space-size=2', '--json=false'], withJson)).toMatchObject({
      'agent-args': '--max-semi-space-size=2',
      json: 'false',
    });
  });

  it('names the flags it knows when given another one, and refuses stray arguments', () => {
    expect(() => parseArgs(['--size', '1'], defaults)).toThrow('unknown flag --size; flags: --url --mb --runs');
    expect(() => parseArgs(['1100'], defaults)).toThrow('unexpected argument 1100');
  });
});
