/**
 * The lifecycle every module of a loki-lite process goes through, in the manner of dskit's services (which
 * Loki's /services reports): New → Starting → Running → Stopping → Terminated, or Failed when starting
 * or stopping threw.
 */
export type ServiceState = 'New' | 'Starting' | 'Running' | 'Stopping' | 'Terminated' | 'Failed';

export interface Service {
  /** The module's name, as Loki names it (`ingester`, `query-frontend`...). */
  readonly name: string;
  /** Resolves once the module serves: the ingester after its WAL replay, the server once it listens. */
  start?(): Promise<void>;
  /** Resolves once the module let go of everything it held (flushed, closed, unlocked). */
  stop?(): Promise<void>;
}

/**
 * A process's services: started one after the other in the order given (a module after the modules it
 * needs), stopped in the reverse order. When one fails to start, those already started are stopped before
 * the error is passed on, so a failed start leaves no lock, port or worker behind.
 */
export class ServiceGroup {
  private readonly states = new Map<Service, ServiceState>();

  constructor(private readonly services: readonly Service[]) {
    for (const s of services) this.states.set(s, 'New');
  }

  /** Every service and its state, in start order (the body of /services). */
  list(): ReadonlyArray<readonly [name: string, state: ServiceState]> {
    return this.services.map((s) => [s.name, this.states.get(s)!] as const);
  }

  get running(): boolean {
    return this.services.every((s) => this.states.get(s) === 'Running');
  }

  async start(): Promise<void> {
    for (const s of this.services) {
      this.states.set(s, 'Starting');
      try {
        await s.start?.();
      } catch (e) {
        this.states.set(s, 'Failed');
        await this.stop();
        throw e;
      }
      this.states.set(s, 'Running');
    }
  }

  /** Stops every service that started, last started first; the first error is passed on after all were asked. */
  async stop(): Promise<void> {
    let failure: unknown;
    for (const s of [...this.services].reverse()) {
      if (this.states.get(s) !== 'Running') continue;
      this.states.set(s, 'Stopping');
      try {
        await s.stop?.();
        this.states.set(s, 'Terminated');
      } catch (e) {
        this.states.set(s, 'Failed');
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
