/**
 * The ring's data, as dskit's ring.proto models it (`Desc` of `InstanceDesc`), in plain JSON so a member can
 * serve its entry over HTTP and a peer can merge it without a codec. Timestamps are Unix seconds, as dskit's.
 */

/** dskit's InstanceState. LEFT is only a tombstone: "this instance was removed", carried so peers drop it too. */
export type InstanceState = 'ACTIVE' | 'LEAVING' | 'PENDING' | 'JOINING' | 'LEFT';

export const INSTANCE_STATES: readonly InstanceState[] = ['ACTIVE', 'LEAVING', 'PENDING', 'JOINING', 'LEFT'];

export interface InstanceDesc {
  /** The instance id (`ingester.lifecycler.ID`, a StatefulSet pod name). */
  id: string;
  /** host:port other roles call it on (the gRPC address in Loki). */
  addr: string;
  zone: string;
  state: InstanceState;
  /** Sorted, distinct uint32 tokens; empty when LEFT or still PENDING. */
  tokens: number[];
  /** Unix seconds of the last heartbeat (or state change) written by the instance itself. */
  timestamp: number;
  /** Unix seconds of when the instance first registered; 0 when unknown (dskit keeps it 0 then). */
  registered_timestamp: number;
}

/** dskit's Desc: every instance of one ring, by id. */
export interface RingDesc {
  ingesters: Record<string, InstanceDesc>;
}

export const nowSeconds = (nowMs: number) => Math.floor(nowMs / 1000);

/**
 * A heartbeat counts until `heartbeatTimeoutMs` has passed (inclusive, as dskit's `<=`); a timeout of 0
 * disables the check, as in dskit.
 */
export function isHeartbeatHealthy(instance: InstanceDesc, heartbeatTimeoutMs: number, nowMs: number): boolean {
  return heartbeatTimeoutMs === 0 || nowMs - instance.timestamp * 1000 <= heartbeatTimeoutMs;
}

/** The tombstone that replaces an instance when it leaves or is forgotten: no tokens, stamped now. */
export function tombstone(instance: InstanceDesc, nowMs: number): InstanceDesc {
  return { ...instance, state: 'LEFT', tokens: [], timestamp: Math.max(nowSeconds(nowMs), instance.timestamp) };
}

/**
 * Whether `incoming` replaces `local` (dskit's Desc.Merge): the newer timestamp wins; at equal timestamps only
 * a LEFT tombstone wins over a live entry, so a forget or a leave in the same second as a heartbeat is not
 * lost. Owners stamp every change of state or tokens with a later second (`nextTimestamp`), so two live
 * entries with one timestamp are the same version, relayed by different peers.
 */
export function supersedes(incoming: InstanceDesc, local: InstanceDesc | undefined): boolean {
  if (local === undefined) return true;
  if (incoming.timestamp !== local.timestamp) return incoming.timestamp > local.timestamp;
  return incoming.state === 'LEFT' && local.state !== 'LEFT';
}

/**
 * The timestamp an owner writes: now, and for a change of content at least one second past the previous
 * version, so the change is never mistaken for a relay of the old one.
 */
export function nextTimestamp(previous: InstanceDesc | undefined, nowMs: number, contentChanged: boolean): number {
  const now = nowSeconds(nowMs);
  if (previous === undefined) return now;
  return Math.max(now, contentChanged ? previous.timestamp + 1 : previous.timestamp);
}

/**
 * Checks an entry received from a peer and brings it to the normal form (sorted distinct tokens, none when
 * LEFT); undefined when it is not a well-formed entry, so one broken peer cannot corrupt the ring.
 */
export function parseInstanceDesc(value: unknown): InstanceDesc | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = [v.id, v.addr, v.zone];
  if (!strings.every((s) => typeof s === 'string') || v.id === '') return undefined;
  if (!INSTANCE_STATES.includes(v.state as InstanceState)) return undefined;
  if (!isWholeNumber(v.timestamp) || !isWholeNumber(v.registered_timestamp)) return undefined;
  if (!Array.isArray(v.tokens) || !v.tokens.every(isUint32)) return undefined;
  const state = v.state as InstanceState;
  return {
    id: v.id as string,
    addr: v.addr as string,
    zone: v.zone as string,
    state,
    tokens: state === 'LEFT' ? [] : sortedDistinct(v.tokens as number[]),
    timestamp: v.timestamp as number,
    registered_timestamp: v.registered_timestamp as number,
  };
}

const isWholeNumber = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isUint32 = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

export function sortedDistinct(tokens: readonly number[]): number[] {
  const sorted = [...tokens].sort((a, b) => a - b);
  return sorted.filter((t, i) => i === 0 || t !== sorted[i - 1]);
}

export const sameTokens = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((t, i) => t === b[i]);
