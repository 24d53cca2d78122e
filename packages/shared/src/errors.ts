/**
 * The small set of error kinds every domain error carries. The HTTP layer maps kind → status in one place;
 * domain code never thinks about status codes.
 */
export type ErrorKind =
  | 'bad_data' // 400: the request is malformed or fails validation
  | 'unauthorized' // 401: no tenant where one is required
  | 'forbidden' // 403: the tenant may not use this feature (deletion_mode: disabled)
  | 'not_found' // 404
  | 'too_large' // 413: a body or message over a size limit
  | 'limit' // 400: a query or push limit
  | 'rate_limited' // 429
  | 'canceled' // 499: the client went away
  | 'unavailable' // 503: not ready, shutting down
  | 'timeout' // 504: a query over its time limit
  | 'internal'; // 500

export class LokiError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** A stable identifier for metrics and tests, e.g. Loki's discard reason `line_too_long`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LokiError';
  }
}
