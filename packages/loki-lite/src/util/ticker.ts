/**
 * Calls `tick` every `periodMs` until the returned function is called. Services take one so tests can pass a
 * ticker they drive by hand; a tick's promise, if any, is the caller's to handle.
 */
export type Ticker = (periodMs: number, tick: () => unknown) => () => void;

/** setInterval that does not keep the process alive. */
export const intervalTicker: Ticker = (periodMs, tick) => {
  const timer = setInterval(() => void tick(), periodMs);
  timer.unref();
  return () => clearInterval(timer);
};
