import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pickTool, TOOLS } from './cli.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('pnpm bench <tool>', () => {
  it('picks the tool and hands it the rest of the arguments, after the -- pnpm may pass', () => {
    expect(pickTool(['query', '--mb', '300'])).toEqual({ tool: 'query', args: ['--mb', '300'] });
    expect(pickTool(['--', 'snappy'])).toEqual({ tool: 'snappy', args: [] });
  });

  it('lists the tools when none or an unknown one is named', () => {
    expect(() => pickTool([])).toThrow(/usage: pnpm bench <tool>[\s\S]*ingest[\s\S]*snappy/);
    expect(() => pickTool(['ingset'])).toThrow('unknown tool "ingset"');
    expect(() => pickTool(['toString'])).toThrow('unknown tool "toString"');
  });

  it('runs as a command: one clear line and exit status 1 for a bad tool or flag', () => {
    const unknown = spawnSync(process.execPath, [CLI, 'nope'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('bench: unknown tool "nope"');
    for (const tool of Object.keys(TOOLS)) expect(unknown.stderr).toContain(tool);
    const badFlag = spawnSync(process.execPath, [CLI, 'query', '--size', '1'], { encoding: 'utf8' });
    expect(badFlag.status).toBe(1);
    expect(badFlag.stderr).toMatch(/^bench: unknown flag --size; flags: --url /m);
  });
});
