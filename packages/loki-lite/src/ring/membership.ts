import { lookup, resolveSrv } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { silentLogger, type Logger } from '@loki-lite/shared';
import type { Ticker } from '../util/ticker.js';
import { parseInstanceDesc, type InstanceDesc } from './desc.js';
import type { Ring } from './ring.js';

/**
 * Membership without a gossip protocol (README.md): the names of `memberlist.join_members` are resolved again
 * and again, every resolved address is asked for its view of the rings (its own entry first hand, the others
 * as it last merged them), and what comes back is merged into the local rings by timestamp.
 */

/** The route every member serves on `memberlist.bind_port`: GET answers its entries, POST takes a peer's. */
export const MEMBER_ROUTE = '/ring/member';

/** The JSON of the member route: per ring key, every entry the member knows, its own and tombstones included. */
export interface MemberPayload {
  rings: Record<string, InstanceDesc[]>;
}

/** DNS as dskit's resolver uses it; tests pass a table. */
export interface DnsResolver {
  /** A/AAAA: every address of `host`. */
  lookupHost(host: string): Promise<string[]>;
  /** SRV: the targets and ports of `name`. */
  lookupSrv(name: string): Promise<Array<{ target: string; port: number }>>;
}

export const systemResolver: DnsResolver = {
  lookupHost: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
  lookupSrv: async (name) => (await resolveSrv(name)).map((r) => ({ target: r.name, port: r.port })),
};

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface JoinMember {
  /**
   * dskit's query types: `dns+` A/AAAA, `dnssrv+` SRV then A/AAAA, `dnssrvnoa+` SRV only; no prefix: as
   * written; any other prefix is an error when resolved, as in dskit.
   */
  kind: 'dns' | 'dnssrv' | 'dnssrvnoa' | 'static' | 'invalid';
  host: string;
  /** '' when the entry names none. */
  port: string;
}

/** Splits a `memberlist.join_members` entry as dskit's GetQTypeName and net.SplitHostPort do. */
export function parseJoinMember(entry: string): JoinMember {
  const plus = entry.indexOf('+');
  if (plus < 0) return { kind: 'static', ...hostAndPort(entry) };
  const prefix = entry.slice(0, plus);
  const kind = prefix === 'dns' || prefix === 'dnssrv' || prefix === 'dnssrvnoa' ? prefix : 'invalid';
  return kind === 'invalid' ? { kind, host: prefix, port: '' } : { kind, ...hostAndPort(entry.slice(plus + 1)) };
}

function hostAndPort(s: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  const colon = s.lastIndexOf(':');
  // A bare IPv6 address has colons but no port.
  if (colon < 0 || s.indexOf(':') !== colon) return { host: s, port: '' };
  return { host: s.slice(0, colon), port: s.slice(colon + 1) };
}

export const joinHostPort = (host: string, port: string | number) => (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

const isNotFound = (e: unknown) => ['ENOTFOUND', 'ENODATA', 'NXDOMAIN'].includes((e as { code?: string }).code ?? '');

/**
 * Resolves the join members to addresses. As dskit's DNS provider: a lookup that fails keeps the addresses
 * the entry had last time (a DNS hiccup does not empty the ring), a name that does not exist gives none, and
 * `dns+` needs a port. A plain `host` gets `memberlist.bind_port`, as memberlist's Join does.
 */
export class JoinMembers {
  private readonly lastGood = new Map<string, string[]>();

  constructor(
    private readonly entries: readonly string[],
    private readonly defaultPort: number,
    private readonly resolver: DnsResolver,
  ) {}

  async resolve(): Promise<{ addresses: string[]; errors: string[] }> {
    const results = await Promise.all(this.entries.map((entry) => this.resolveOrKeep(entry)));
    const addresses = [...new Set(results.flatMap((r) => r.addresses))];
    return { addresses, errors: results.flatMap((r) => (r.error === undefined ? [] : [r.error])) };
  }

  private async resolveOrKeep(entry: string): Promise<{ addresses: string[]; error?: string }> {
    try {
      const addresses = await this.resolveEntry(parseJoinMember(entry));
      this.lastGood.set(entry, addresses);
      return { addresses };
    } catch (e) {
      return { addresses: this.lastGood.get(entry) ?? [], error: `${entry}: ${(e as Error).message}` };
    }
  }

  private async resolveEntry({ kind, host, port }: JoinMember): Promise<string[]> {
    if (kind === 'static') return [joinHostPort(host, port || this.defaultPort)];
    if (kind === 'invalid') throw new Error(`invalid lookup scheme "${host}"`);
    if (kind === 'dns') {
      if (port === '') throw new Error(`missing port in address given for dns lookup: ${host}`);
      return (await orNone(this.resolver.lookupHost(host))).map((ip) => joinHostPort(ip, port));
    }
    const records = await orNone(this.resolver.lookupSrv(host));
    // An explicit port wins over the SRV record's, as in dskit.
    if (kind === 'dnssrvnoa') return records.map((r) => joinHostPort(r.target, port || r.port));
    const perTarget = await Promise.all(
      records.map(async (r) => (await orNone(this.resolver.lookupHost(r.target))).map((ip) => joinHostPort(ip, port || r.port))),
    );
    return perTarget.flat();
  }
}

/** A name that does not exist is an empty answer, not a failure (dskit's IsNotFound). */
async function orNone<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

export interface MembershipOptions {
  joinMembers: JoinMembers;
  /** How often every resolved member is asked for its entries; the ingester heartbeat period suits it. */
  pollPeriodMs: number;
  /** A member that does not answer within this is skipped for the round. */
  requestTimeoutMs: number;
  fetch: Fetch;
  ticker: Ticker;
  logger?: Logger;
}

/**
 * The poller: each round resolves the join members, asks every address for its entries, merges them into
 * the rings by key, and expires old tombstones. It also serves this process's own entries (`payload`) and
 * pushes them to every member when one leaves (`announce`), so a leave is known before the process is gone.
 */
export class Membership {
  private readonly rings = new Map<string, Ring>();
  private addresses: string[] = [];
  private stopTicker: (() => void) | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly options: MembershipOptions) {}

  addRing(ring: Ring): void {
    this.rings.set(ring.key, ring);
  }

  /** The member route's GET answer. */
  payload(): MemberPayload {
    const rings: Record<string, InstanceDesc[]> = {};
    for (const [key, ring] of this.rings) rings[key] = ring.allEntries();
    return { rings };
  }

  /** Merges a peer's payload (a GET answer or a POST body); malformed entries and unknown rings are skipped. */
  receive(body: unknown): void {
    const rings = (body as { rings?: unknown } | null)?.rings;
    if (typeof rings !== 'object' || rings === null) return;
    for (const [key, entries] of Object.entries(rings)) {
      const ring = this.rings.get(key);
      if (ring === undefined || !Array.isArray(entries)) continue;
      ring.merge(entries.map(parseInstanceDesc).filter((e) => e !== undefined));
    }
  }

  /** One round, now; the first one before a lifecycler starts lets a restarted instance find its old entry. */
  pollOnce(): Promise<void> {
    this.round ??= this.poll().finally(() => (this.round = undefined));
    return this.round;
  }

  start(): void {
    // A round never stops the poller: what failed is logged, the next round tries again.
    this.stopTicker ??= this.options.ticker(this.options.pollPeriodMs, () =>
      this.pollOnce().catch((e: Error) => this.logger.warn(`msg="ring membership round failed" err="${e.message}"`)),
    );
  }

  async stop(): Promise<void> {
    this.stopTicker?.();
    this.stopTicker = undefined;
    await this.round;
  }

  /** Pushes this process's entries to every known member (a leave, so peers need not wait for a poll). */
  async announce(): Promise<void> {
    const body = JSON.stringify(this.payload());
    const headers = { 'content-type': 'application/json' };
    await Promise.all(this.addresses.map((addr) => this.call(addr, { method: 'POST', body, headers })));
  }

  private async poll(): Promise<void> {
    const { addresses, errors } = await this.options.joinMembers.resolve();
    for (const e of errors) this.logger.warn(`msg="failed to resolve memberlist join member" err="${e}"`);
    this.addresses = addresses;
    const answers = await Promise.all(addresses.map((addr) => this.call(addr, { method: 'GET' })));
    for (const answer of answers) if (answer !== undefined) this.receive(answer);
    for (const ring of this.rings.values()) ring.expire();
  }

  /** One request to a member; a member that is down or slow is expected, so it is logged and skipped. */
  private async call(addr: string, init: RequestInit): Promise<unknown> {
    try {
      const res = await this.options.fetch(`http://${addr}${MEMBER_ROUTE}`, { ...init, signal: AbortSignal.timeout(this.options.requestTimeoutMs) });
      if (!res.ok) throw new Error(`status ${res.status}`);
      return init.method === 'GET' ? await res.json() : undefined;
    } catch (e) {
      this.logger.debug(`msg="ring member did not answer" addr=${addr} err="${(e as Error).message}"`);
      return undefined;
    }
  }

  private get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }
}
