import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, type ObjectStore } from '../object-store.js';

/**
 * The behaviour every ObjectStore must have. Each implementation's test file calls this with a factory that
 * gives a fresh, empty store.
 */
export function describeObjectStoreConformance(name: string, makeStore: () => Promise<ObjectStore> | ObjectStore): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    it('reads back exactly what was written, binary-safe', async () => {
      const store = await makeStore();
      const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
      await store.put('tenant/chunks/abc', body);
      expect(Buffer.compare(await store.get('tenant/chunks/abc'), body)).toBe(0);
    });

    it('gives each read a Buffer of its own: changing it changes neither the object nor the next read', async () => {
      const store = await makeStore();
      await store.put('tenant/chunks/own', Buffer.from('stored bytes'));
      const first = await store.get('tenant/chunks/own');
      first.fill(0x21);
      expect((await store.get('tenant/chunks/own')).toString()).toBe('stored bytes');
    });

    it('overwrites an object whole', async () => {
      const store = await makeStore();
      await store.put('k/x', Buffer.from('first version, longer'));
      await store.put('k/x', Buffer.from('second'));
      expect((await store.get('k/x')).toString()).toBe('second');
    });

    it('throws ObjectNotFoundError for a missing key, also one that is a "folder"', async () => {
      const store = await makeStore();
      await store.put('a/b/c', Buffer.from('x'));
      await expect(store.get('a/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get('a/b')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('throws ObjectNotFoundError for a key below an object, as if the object were a "folder"', async () => {
      const store = await makeStore();
      await store.put('a/b', Buffer.from('x'));
      await expect(store.get('a/b/c')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('lists by prefix in lexical order, across folders and within a name', async () => {
      const store = await makeStore();
      for (const k of ['index/p_2/t1/b', 'index/p_2/t1/a', 'index/p_2/t2/a', 'index/p_3/t1/a', 'other/x', 'index/p_20/t1/z']) {
        await store.put(k, Buffer.from(k));
      }
      expect(await store.list('index/p_2/')).toEqual(['index/p_2/t1/a', 'index/p_2/t1/b', 'index/p_2/t2/a']);
      expect(await store.list('index/p_2')).toEqual(['index/p_2/t1/a', 'index/p_2/t1/b', 'index/p_2/t2/a', 'index/p_20/t1/z']);
      expect(await store.list('index/p_2/t1/')).toEqual(['index/p_2/t1/a', 'index/p_2/t1/b']);
      expect(await store.list('nothing/')).toEqual([]);
      expect((await store.list('')).length).toBe(6);
    });

    it('lists more keys than one page of an S3 listing', async () => {
      const store = await makeStore();
      const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from('1'))));
      expect(await store.list('many/')).toEqual(keys);
    });

    it('deletes, and deleting a missing object is fine', async () => {
      const store = await makeStore();
      await store.put('d/1', Buffer.from('x'));
      await store.delete('d/1');
      await store.delete('d/never-existed');
      await expect(store.get('d/1')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(await store.list('d/')).toEqual([]);
    });

    it('keeps many concurrent writes apart', async () => {
      const store = await makeStore();
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.put(`c/${i}`, Buffer.from(`v${i}`))));
      const values = await Promise.all(Array.from({ length: 40 }, (_, i) => store.get(`c/${i}`)));
      expect(values.map(String)).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));
    });
  });
}
