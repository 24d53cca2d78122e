/** A pipeline stage that cannot be compiled; the message names the problem. */
export class StageError extends Error {
  override readonly name = 'StageError';
}
