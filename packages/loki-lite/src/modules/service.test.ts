import { describe, expect, it } from 'vitest';
import { type Service, ServiceGroup } from './service.js';

/** Services that note their starts and stops; `failing` throws when started. */
function recorded(names: string[], failing?: string): { services: Service[]; calls: string[] } {
  const calls: string[] = [];
  const services = names.map((name) => ({
    name,
    async start() {
      calls.push(`start ${name}`);
      if (name === failing) throw new Error(`${name} could not start`);
    },
    async stop() {
      calls.push(`stop ${name}`);
    },
  }));
  return { services, calls };
}

describe('ServiceGroup', () => {
  it('starts in order, stops in reverse, and reports each state as /services does', async () => {
    const { services, calls } = recorded(['store', 'ingester', 'server']);
    const group = new ServiceGroup([...services, { name: 'distributor' }]);
    expect(group.list()).toEqual([
      ['store', 'New'],
      ['ingester', 'New'],
      ['server', 'New'],
      ['distributor', 'New'],
    ]);
    expect(group.running).toBe(false);
    await group.start();
    expect(group.running).toBe(true);
    expect(group.list().map(([, state]) => state)).toEqual(['Running', 'Running', 'Running', 'Running']);
    await group.stop();
    expect(calls).toEqual(['start store', 'start ingester', 'start server', 'stop server', 'stop ingester', 'stop store']);
    expect(group.list().map(([, state]) => state)).toEqual(['Terminated', 'Terminated', 'Terminated', 'Terminated']);
  });

  it('a service that fails to start stops those already started, and the error is passed on', async () => {
    const { services, calls } = recorded(['store', 'ingester', 'server', 'querier'], 'server');
    const group = new ServiceGroup(services);
    await expect(group.start()).rejects.toThrow('server could not start');
    expect(calls).toEqual(['start store', 'start ingester', 'start server', 'stop ingester', 'stop store']);
    expect(group.list()).toEqual([
      ['store', 'Terminated'],
      ['ingester', 'Terminated'],
      ['server', 'Failed'],
      ['querier', 'New'],
    ]);
  });

  it('a service that fails to stop does not keep the others running', async () => {
    const calls: string[] = [];
    const group = new ServiceGroup([
      { name: 'ingester', stop: async () => void calls.push('stop ingester') },
      {
        name: 'server',
        stop: async () => {
          throw new Error('port stuck');
        },
      },
    ]);
    await group.start();
    await expect(group.stop()).rejects.toThrow('port stuck');
    expect(calls).toEqual(['stop ingester']);
    expect(group.list()).toEqual([
      ['ingester', 'Terminated'],
      ['server', 'Failed'],
    ]);
  });
});
