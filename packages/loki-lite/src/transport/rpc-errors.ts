import { type Metadata, type ServiceError, status as Status, type StatusObject, Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { type ErrorKind, LokiError } from '@loki-lite/shared';

/*
 * Errors across the transport, both ways. A handler's LokiError crosses as a gRPC status whose code matches
 * its kind, with the kind and the code themselves in the trailers (gRPC codes are coarser than our kinds),
 * so the caller gets back the same LokiError: the ingester's "entry out of order" reaches the pushing client
 * with its 400 and Loki's text. Anything else (the peer cannot be reached, the deadline passed, the peer
 * failed) becomes a LokiError in grpc-go's words, `rpc error: code = Unavailable desc = ...`, followed by the
 * peer and the method, so an operator reading a 5xx knows which ingester to look at.
 */

/** Trailer keys of a LokiError that crossed the wire. */
const KIND_KEY = 'loki-error-kind';
const CODE_KEY = 'loki-error-code';

const STATUS_BY_KIND: Readonly<Record<ErrorKind, Status>> = {
  bad_data: Status.INVALID_ARGUMENT,
  unauthorized: Status.UNAUTHENTICATED,
  forbidden: Status.PERMISSION_DENIED,
  not_found: Status.NOT_FOUND,
  too_large: Status.RESOURCE_EXHAUSTED,
  limit: Status.FAILED_PRECONDITION,
  rate_limited: Status.RESOURCE_EXHAUSTED,
  canceled: Status.CANCELLED,
  unavailable: Status.UNAVAILABLE,
  timeout: Status.DEADLINE_EXCEEDED,
  internal: Status.INTERNAL,
};

/** Kinds a caller hands on to its own client as they are: the request's fault, in Loki's words. */
const CLIENT_FAULT_KINDS: ReadonlySet<ErrorKind> = new Set(['bad_data', 'unauthorized', 'forbidden', 'not_found', 'too_large', 'limit', 'rate_limited']);

/** grpc-go's names of the status codes (`codes.Code.String()`), which Loki's error texts show. */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  [Status.OK]: 'OK',
  [Status.CANCELLED]: 'Canceled',
  [Status.UNKNOWN]: 'Unknown',
  [Status.INVALID_ARGUMENT]: 'InvalidArgument',
  [Status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [Status.NOT_FOUND]: 'NotFound',
  [Status.ALREADY_EXISTS]: 'AlreadyExists',
  [Status.PERMISSION_DENIED]: 'PermissionDenied',
  [Status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [Status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [Status.ABORTED]: 'Aborted',
  [Status.OUT_OF_RANGE]: 'OutOfRange',
  [Status.UNIMPLEMENTED]: 'Unimplemented',
  [Status.INTERNAL]: 'Internal',
  [Status.UNAVAILABLE]: 'Unavailable',
  [Status.DATA_LOSS]: 'DataLoss',
  [Status.UNAUTHENTICATED]: 'Unauthenticated',
};

const goCodeName = (code: number) => GO_CODE_NAMES[code] ?? `Code(${code})`;

/** The kind of a failure the transport itself reports: 5xx, as the peer is the one at fault. */
function kindOfTransportStatus(code: Status): ErrorKind {
  if (code === Status.DEADLINE_EXCEEDED) return 'timeout';
  if (code === Status.UNAVAILABLE) return 'unavailable';
  if (code === Status.CANCELLED) return 'canceled';
  return 'internal';
}

const isErrorKind = (v: unknown): v is ErrorKind => typeof v === 'string' && Object.hasOwn(STATUS_BY_KIND, v);

/** What a server handler's failure sends back: a LokiError keeps its kind and code, anything else is Internal. */
export function toStatus(e: unknown): Partial<StatusObject> {
  if (!(e instanceof LokiError)) return { code: Status.INTERNAL, details: e instanceof Error ? e.message : String(e) };
  const metadata = new GrpcMetadata();
  metadata.set(KIND_KEY, e.kind);
  metadata.set(CODE_KEY, e.code);
  return { code: STATUS_BY_KIND[e.kind], details: e.message, metadata };
}

/** Who a call went to, for the error text: `ingester 10.0.0.3:9095 /logproto.Pusher/Push`. */
export interface CallSite {
  readonly peerRole: string;
  readonly address: string;
  readonly method: string;
}

/** A failed call as the LokiError its caller throws on. */
export function fromServiceError(err: ServiceError, site: CallSite): LokiError {
  const kind = firstValue(err.metadata, KIND_KEY);
  const code =
    firstValue(err.metadata, CODE_KEY) ??
    `grpc_${goCodeName(err.code)
      .replace(/(?<=[a-z])(?=[A-Z])/g, '_')
      .toLowerCase()}`;
  if (isErrorKind(kind) && CLIENT_FAULT_KINDS.has(kind)) return new LokiError(kind, code, err.details);
  // grpc-go's text for a passed deadline, which Loki's logs and 5xx answers show; grpc-js adds timings.
  const desc = err.code === Status.DEADLINE_EXCEEDED ? 'context deadline exceeded' : err.details;
  const text = `rpc error: code = ${goCodeName(err.code)} desc = ${desc} (${site.peerRole} ${site.address} ${site.method})`;
  return new LokiError(isErrorKind(kind) ? kind : kindOfTransportStatus(err.code), code, text);
}

function firstValue(metadata: Metadata | undefined, key: string): string | undefined {
  const v = metadata?.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}
