import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeObjectStoreConformance } from '../testing/conformance.js';
import { FsObjectStore } from './fs-store.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function freshRoot(): string {
  const r = mkdtempSync(path.join(tmpdir(), 'fs-store-'));
  roots.push(r);
  return r;
}

describeObjectStoreConformance('filesystem', () => new FsObjectStore(freshRoot()));

it('refuses keys that would escape its root', async () => {
  const store = new FsObjectStore(freshRoot());
  await expect(store.put('../outside', Buffer.from('x'))).rejects.toThrow('invalid object key');
  await expect(store.get('a/../../x')).rejects.toThrow('invalid object key');
});

it('leaves no temporary files behind', async () => {
  const root = freshRoot();
  const store = new FsObjectStore(root);
  await store.put('t/one', Buffer.from('1'));
  expect(readdirSync(path.join(root, 't'))).toEqual(['one']);
});
