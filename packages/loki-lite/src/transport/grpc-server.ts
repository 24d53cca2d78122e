import { type ChannelOptions, Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';

/**
 * The gRPC listener of a process (`server.grpc_listen_address` and `server.grpc_listen_port`, given by the
 * caller as host:port). Each role registers the services it owns before start; one listener serves them all,
 * as Loki's one gRPC server does.
 */
export interface GrpcServerOptions {
  /** host:port; port 0 takes a free one (tests, the bench). */
  readonly address: string;
  /** `server.grpc_server_max_recv_msg_size` / `..._send_msg_size`: 4 MiB in Loki. */
  readonly maxRecvMsgSize?: number;
  readonly maxSendMsgSize?: number;
  /** `server.grpc_server_max_concurrent_streams`: 100 in Loki. */
  readonly maxConcurrentStreams?: number;
  /** `server.grpc_server_keepalive_time` / `..._timeout`: 2h and 20s in Loki. */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
}

const MiB = 1024 * 1024;

function channelOptions(o: GrpcServerOptions): ChannelOptions {
  return {
    'grpc.max_receive_message_length': o.maxRecvMsgSize ?? 4 * MiB,
    'grpc.max_send_message_length': o.maxSendMsgSize ?? 4 * MiB,
    'grpc.max_concurrent_streams': o.maxConcurrentStreams ?? 100,
    'grpc.keepalive_time_ms': o.keepaliveTimeMs ?? 2 * 3600_000,
    'grpc.keepalive_timeout_ms': o.keepaliveTimeoutMs ?? 20_000,
  };
}

export class GrpcServer {
  private readonly server: Server;
  private boundPort: number | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    this.server = new Server(channelOptions(options));
  }

  /** Adds a service; before start only (grpc-js serves what was added when it binds). */
  register(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    if (this.boundPort !== undefined) throw new Error('gRPC services are registered before the server starts');
    this.server.addService(service, implementation);
  }

  /** Binds and serves; answers the port it listens on. */
  async start(): Promise<number> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.options.address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    return this.boundPort;
  }

  /** The port it listens on (after start). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('the gRPC server has not started');
    return this.boundPort;
  }

  /**
   * Stops taking calls, lets the running ones finish for up to `graceMs` (`server.graceful_shutdown_timeout`,
   * 30s in Loki), then closes every connection.
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.boundPort === undefined) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
