import { type ChannelOptions, Client, credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { type LokiError } from '@loki-lite/shared';
import { fromServiceError } from './rpc-errors.js';

/**
 * Clients of one role's peers (the distributor's ingester clients), one channel per peer address, kept
 * open between calls with keep-alive pings, as dskit's client pool keeps one connection per ingester.
 * Every call has a deadline and fails with a LokiError that names the peer and the method.
 */
export interface ClientPoolOptions {
  /** The role of the peers, for error texts: `ingester`. */
  readonly peerRole: string;
  /** `ingester_client.remote_timeout`: 5s in Loki. */
  readonly remoteTimeoutMs?: number;
  /** `grpc_client_config.max_send_msg_size` / `max_recv_msg_size`: 100 MiB in dskit. */
  readonly maxSendMsgSize?: number;
  readonly maxRecvMsgSize?: number;
}

/** One unary method as the client sends it: its path and how its messages become bytes and back. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (req: Req) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

const MiB = 1024 * 1024;

/** dskit's grpcclient dial options: a ping every 20 s, even with no call running, dropped after 10 s unanswered. */
function channelOptions(o: ClientPoolOptions): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_send_message_length': o.maxSendMsgSize ?? 100 * MiB,
    'grpc.max_receive_message_length': o.maxRecvMsgSize ?? 100 * MiB,
    // dskit's connect_backoff_base_delay and connect_backoff_max_delay
    'grpc.initial_reconnect_backoff_ms': 1_000,
    'grpc.max_reconnect_backoff_ms': 5_000,
    // Each pool owns its connections: closing it closes them, whatever other pools dial.
    'grpc.use_local_subchannel_pool': 1,
  };
}

export class ClientPool {
  private readonly clients = new Map<string, Client>();
  private readonly channelOptions: ChannelOptions;
  private closed = false;

  constructor(private readonly options: ClientPoolOptions) {
    this.channelOptions = channelOptions(options);
  }

  /** The client of a peer (host:port), dialled on first use and reused after. */
  clientFor(address: string): Client {
    if (this.closed) throw new Error(`the ${this.options.peerRole} client pool is closed`);
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new Client(address, credentials.createInsecure(), this.channelOptions);
      this.clients.set(address, client);
    }
    return client;
  }

  /** Peer addresses with an open client. */
  addresses(): string[] {
    return [...this.clients.keys()];
  }

  /**
   * Calls a unary method on a peer with the pool's deadline. The request must stay unchanged until the
   * answer: a Buffer-valued message is written to the socket as it is, not copied.
   */
  call<Req, Res>(address: string, method: UnaryMethod<Req, Res>, request: Req, metadata: Metadata): Promise<Res> {
    const client = this.clientFor(address);
    const deadline = Date.now() + (this.options.remoteTimeoutMs ?? 5_000);
    return new Promise<Res>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline },
        (err: ServiceError | null, res?: Res) => (err ? reject(this.failure(err, address, method.path)) : resolve(res as Res)),
      );
    });
  }

  /** Drops a peer's client (it left the ring); its connection closes once its calls end. */
  remove(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  /** Closes every client; calls after it fail. */
  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private failure(err: ServiceError, address: string, method: string): LokiError {
    return fromServiceError(err, { peerRole: this.options.peerRole, address, method });
  }
}
