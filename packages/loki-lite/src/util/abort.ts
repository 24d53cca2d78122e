/**
 * `promise`, or `signal.reason` as soon as the signal aborts. A rejection of `promise` after the abort is
 * expected (the work noticed the signal) and is consumed here.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** `start()` raced against `signal` (raceAbort), not started at all when the signal has already aborted. */
export function startUnlessAborted<T>(signal: AbortSignal, start: () => Promise<T>): Promise<T> {
  return signal.aborted ? Promise.reject(signal.reason) : raceAbort(start(), signal);
}
