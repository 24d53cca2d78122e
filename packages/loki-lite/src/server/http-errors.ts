import { type ErrorKind, LokiError } from '@loki-lite/shared';

/** The one place an error kind becomes an HTTP status. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  bad_data: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  limit: 400,
  rate_limited: 429,
  canceled: 499,
  unavailable: 503,
  timeout: 504,
  internal: 500,
};

export interface HttpError {
  readonly status: number;
  readonly message: string;
}

/** Maps any thrown value to a status and a message a client may read. */
export function toHttpError(e: unknown): HttpError {
  if (e instanceof LokiError) return { status: STATUS_BY_KIND[e.kind], message: e.message };
  const fastifyStatus = (e as { statusCode?: number }).statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return { status: fastifyStatus, message: (e as Error).message };
  }
  return { status: 500, message: e instanceof Error ? e.message : String(e) };
}
