import { Metadata, type MethodDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { LokiError } from '@loki-lite/shared';
import { type ClientPool, type UnaryMethod } from './client-pool.js';
import { type GrpcServer } from './grpc-server.js';
import { toStatus } from './rpc-errors.js';

/*
 * Loki's `logproto.Pusher/Push`, the distributor → ingester call. The request is Loki's PushRequest
 * protobuf, as `encodePushRequestProto` (packages/shared) writes it and `decodePushRequestProto` reads it:
 * the transport moves its bytes without parsing them, so no protobuf library sits on the hot path and the
 * ingester can log the body to its WAL as received. The response is PushResponse, which has no fields
 * (zero bytes). The tenant travels in the `x-scope-orgid` metadata header, as dskit's
 * user.InjectOrgIDIntoGRPCRequest sends it.
 */

export const PUSH_METHOD = '/logproto.Pusher/Push';
const ORG_ID_HEADER = 'x-scope-orgid';

/** What the ingester does with a push: the tenant and the PushRequest protobuf bytes. */
export type PushHandler = (tenant: string, body: Uint8Array) => Promise<void>;

const NO_BYTES = Buffer.alloc(0);

/** A view of the caller's bytes: written to the socket as they are. */
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const PUSH: UnaryMethod<Uint8Array, void> & MethodDefinition<Uint8Array, void> = {
  path: PUSH_METHOD,
  requestStream: false,
  responseStream: false,
  requestSerialize: asBuffer,
  requestDeserialize: (bytes: Buffer) => bytes,
  responseSerialize: () => NO_BYTES,
  responseDeserialize: () => undefined,
};

/** Serves Push on `server` with `handler` (the ingester registers it). */
export function registerPusher(server: GrpcServer, handler: PushHandler): void {
  server.register(
    { Push: PUSH },
    {
      Push: (call: ServerUnaryCall<Buffer, void>, callback: sendUnaryData<void>) => {
        const tenant = call.metadata.get(ORG_ID_HEADER)[0];
        // dskit's user.ErrNoOrgID
        if (typeof tenant !== 'string' || tenant === '') return callback(toStatus(new LokiError('unauthorized', 'no_org_id', 'no org id')));
        handler(tenant, call.request).then(
          () => callback(null),
          (e: unknown) => callback(toStatus(e)),
        );
      },
    },
  );
}

/** The distributor's side: pushes a PushRequest body to one ingester of the pool. */
export class PusherClient {
  constructor(private readonly pool: ClientPool) {}

  /** Resolves once the ingester answered; `body` must stay unchanged until then (it is not copied). */
  push(address: string, tenant: string, body: Uint8Array): Promise<void> {
    const metadata = new Metadata();
    metadata.set(ORG_ID_HEADER, tenant);
    return this.pool.call(address, PUSH, body, metadata);
  }
}
