import { LokiError } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { Admission, type AdmissionObserver, TOO_MANY_OUTSTANDING_REQUESTS } from './admission.js';

/** A promise the test settles by hand: the work of one query. */
function deferred<T = string>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every promise callback that is ready run (the admission hands slots on in microtasks). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Queries that record when they start and run until the test finishes them. `started` lists their names
 * in the order the admission let them in.
 */
function harness(maxConcurrent: number, maxOutstandingPerTenant: number, observer?: AdmissionObserver) {
  const admission = new Admission({ maxConcurrent, maxOutstandingPerTenant }, observer);
  const started: string[] = [];
  const work = new Map<string, ReturnType<typeof deferred<string>>>();
  const submit = (tenant: string, name: string, signal = new AbortController().signal) => {
    const d = deferred();
    work.set(name, d);
    const answer = admission.run(tenant, signal, () => {
      started.push(name);
      return d.promise;
    });
    answer.catch(() => {}); // tests look at the rejection when they care
    return answer;
  };
  const finish = (name: string) => work.get(name)!.resolve(name);
  return { admission, started, submit, finish, fail: (name: string, e: unknown) => work.get(name)!.reject(e) };
}

describe('admission', () => {
  it('runs at most max_concurrent queries at once; the next starts when one finishes', async () => {
    const h = harness(2, 10);
    const answers = ['a', 'b', 'c', 'd'].map((n) => h.submit('t', n));
    await settle();
    expect(h.started).toEqual(['a', 'b']);
    expect(h.admission.active).toBe(2);
    expect(h.admission.queued('t')).toBe(2);
    h.finish('b');
    expect(await answers[1]).toBe('b');
    await settle();
    expect(h.started).toEqual(['a', 'b', 'c']);
    expect(h.admission.active).toBe(2);
    h.finish('a');
    h.finish('c');
    await settle();
    expect(h.started).toEqual(['a', 'b', 'c', 'd']);
    h.finish('d');
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c', 'd']);
    expect(h.admission.active).toBe(0);
  });

  it("keeps each tenant's queries in arrival order", async () => {
    const h = harness(1, 10);
    for (const n of ['run', 'q1', 'q2', 'q3']) void h.submit('t', n);
    await settle();
    for (const n of ['run', 'q1', 'q2']) {
      h.finish(n);
      await settle();
    }
    expect(h.started).toEqual(['run', 'q1', 'q2', 'q3']);
  });

  it('serves waiting tenants in turn, so a burst from one does not hold back another', async () => {
    const h = harness(1, 10);
    void h.submit('a', 'a0');
    for (const n of ['a1', 'a2', 'a3']) void h.submit('a', n);
    for (const n of ['b1', 'b2']) void h.submit('b', n);
    void h.submit('c', 'c1');
    await settle();
    for (const n of ['a0', 'a1', 'b1', 'c1', 'a2', 'b2']) {
      h.finish(n);
      await settle();
    }
    expect(h.started).toEqual(['a0', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it("refuses a tenant's query beyond max_outstanding_requests_per_tenant waiting with Loki's 429, other tenants unaffected", async () => {
    const discarded: string[] = [];
    const lengths: Array<[string, number]> = [];
    const h = harness(1, 2, { discarded: (t) => discarded.push(t), queueLength: (t, n) => lengths.push([t, n]) });
    void h.submit('t', 'run');
    void h.submit('t', 'w1');
    void h.submit('t', 'w2');
    const refused = h.submit('t', 'w3');
    const error = await refused.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LokiError);
    expect((error as LokiError).message).toBe(TOO_MANY_OUTSTANDING_REQUESTS);
    expect(TOO_MANY_OUTSTANDING_REQUESTS).toBe('too many outstanding requests');
    expect((error as LokiError).kind).toBe('rate_limited'); // 429 (server/http-errors.ts)
    expect(discarded).toEqual(['t']);
    expect(h.admission.queued('t')).toBe(2);
    void h.submit('other', 'o1'); // another tenant's queue has room
    expect(h.admission.queued('other')).toBe(1);
    expect(lengths).toEqual([
      ['t', 1],
      ['t', 2],
      ['other', 1],
    ]);
  });

  it('takes a query that is aborted while it waits out of the queue at once, with the reason it was given', async () => {
    const h = harness(1, 1);
    void h.submit('t', 'run');
    const controller = new AbortController();
    const waiting = h.submit('t', 'gone', controller.signal);
    await settle();
    expect(h.admission.queued('t')).toBe(1);
    const reason = new LokiError('canceled', 'canceled', 'context canceled');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(h.admission.queued('t')).toBe(0);
    // its place is free: the tenant may queue one again, and the aborted one never starts
    const next = h.submit('t', 'next');
    h.finish('run');
    await settle();
    expect(h.started).toEqual(['run', 'next']);
    h.finish('next');
    expect(await next).toBe('next');
  });

  it('answers a running query that is aborted at once, and frees its slot when its work stops', async () => {
    const h = harness(1, 10);
    const controller = new AbortController();
    const running = h.submit('t', 'slow', controller.signal);
    const after = h.submit('t', 'after');
    await settle();
    const reason = new LokiError('timeout', 'query_timeout', 'timed out');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    // The work has not stopped yet: its slot is still taken.
    expect(h.started).toEqual(['slow']);
    expect(h.admission.stopping).toBe(1);
    h.fail('slow', reason); // the read loop notices the signal
    await settle();
    expect(h.admission.stopping).toBe(0);
    expect(h.started).toEqual(['slow', 'after']);
    h.finish('after');
    expect(await after).toBe('after');
  });

  it('frees the slot of a query that fails, and passes its error on', async () => {
    const h = harness(1, 10);
    const failing = h.submit('t', 'bad');
    const next = h.submit('t', 'next');
    await settle();
    const error = new Error('store down');
    h.fail('bad', error);
    await expect(failing).rejects.toBe(error);
    await settle();
    expect(h.started).toEqual(['bad', 'next']);
    expect(h.admission.active).toBe(1);
    h.finish('next');
    await next;
    expect(h.admission.active).toBe(0);
  });

  it('frees the slot of work that throws before it returns a promise', async () => {
    const admission = new Admission({ maxConcurrent: 1, maxOutstandingPerTenant: 1 });
    const signal = new AbortController().signal;
    await expect(
      admission.run('t', signal, () => {
        throw new Error('at once');
      }),
    ).rejects.toThrow('at once');
    expect(admission.active).toBe(0);
    expect(await admission.run('t', signal, async () => 'ok')).toBe('ok');
  });

  it('refuses a query whose signal is already aborted without running it', async () => {
    const h = harness(1, 10);
    const controller = new AbortController();
    controller.abort(new Error('gone before it came'));
    await expect(h.submit('t', 'never', controller.signal)).rejects.toThrow('gone before it came');
    expect(h.started).toEqual([]);
    expect(h.admission.active).toBe(0);
  });
});
