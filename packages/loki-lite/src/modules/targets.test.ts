import { describe, expect, it } from 'vitest';
import { modulesOf } from './targets.js';

describe('modulesOf: a -target and the modules it runs, dependencies first', () => {
  it.each([
    ['all', ['store', 'server', 'ingester', 'distributor', 'querier', 'query-frontend', 'compactor']],
    ['backend', ['store', 'server', 'compactor']],
    ['write', ['store', 'server', 'ingester', 'distributor']],
    ['read', ['store', 'server', 'ingester', 'querier', 'query-frontend']],
    ['ingester', ['store', 'server', 'ingester']],
    ['query-frontend', ['store', 'server', 'ingester', 'querier', 'query-frontend']],
    ['distributor, ingester', ['store', 'server', 'ingester', 'distributor']],
    ['querier,write', ['store', 'server', 'ingester', 'querier', 'distributor']],
  ])('%s', (target, modules) => expect(modulesOf(target)).toEqual({ modules, unknown: [] }));

  it('names the parts of a target that have no module yet', () => {
    expect(modulesOf('compactor,querier,ruler')).toEqual({ modules: ['store', 'server', 'compactor', 'ingester', 'querier'], unknown: ['ruler'] });
  });
});
