import { describe, expect, it } from 'vitest';
import { modulesOf } from './targets.js';

describe('modulesOf: a -target and the modules it runs, dependencies first', () => {
  it.each([
    ['all', ['store', 'server', 'ingester', 'distributor', 'querier', 'query-frontend', 'compactor'], ['query-scheduler']],
    ['backend', ['server', 'store', 'compactor'], ['query-scheduler', 'index-gateway']],
    ['write', ['store', 'server', 'ingester', 'distributor'], []],
    ['read', ['store', 'server', 'ingester', 'querier', 'query-frontend'], []],
    ['ingester', ['store', 'server', 'ingester'], []],
    ['query-frontend', ['store', 'server', 'ingester', 'querier', 'query-frontend'], []],
    ['query-scheduler', ['server'], ['query-scheduler']],
    ['index-gateway', ['store', 'server'], ['index-gateway']],
    ['distributor, ingester', ['store', 'server', 'ingester', 'distributor'], []],
    ['querier,write', ['store', 'server', 'ingester', 'querier', 'distributor'], []],
  ])('%s', (target, modules, pending) => expect(modulesOf(target)).toEqual({ modules, pending, unknown: [] }));

  it("has Loki's backend: the query-scheduler, the index gateway and the compactor", () => {
    expect(modulesOf('backend')).toEqual(modulesOf('query-scheduler,index-gateway,compactor'));
  });

  it('runs every module loki-lite builds for all, so a single process needs neither pending module', () => {
    expect(new Set(modulesOf('all').modules)).toEqual(new Set(modulesOf('write,read,backend').modules));
  });

  it('names the parts of a target that have no module yet', () => {
    expect(modulesOf('compactor,querier,ruler')).toEqual({
      modules: ['store', 'server', 'compactor', 'ingester', 'querier'],
      pending: [],
      unknown: ['ruler'],
    });
  });
});
