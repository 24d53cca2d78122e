import { createHash } from 'node:crypto';
import type { Labels } from './labels.js';

/**
 * A stable 64-bit fingerprint of a label set, as 16 hex digits. Computed once per stream (never per line),
 * so a cryptographic hash costs nothing measurable and makes collisions a non-issue in practice.
 */
export function fingerprint(labels: Labels): string {
  const h = createHash('sha256');
  for (const l of labels) {
    h.update(l.name);
    h.update('\xff');
    h.update(l.value);
    h.update('\xff');
  }
  return h.digest('hex').slice(0, 16);
}
