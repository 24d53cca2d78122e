import { LokiError } from '@loki-lite/shared';
import type { ObjectStore } from '../storage/object-store.js';
import {
  cacheGenerationKey,
  cacheGenerationPrefix,
  DELETE_REQUESTS_ROOT,
  deleteRequestKey,
  deleteRequestKeyOf,
  deleteRequestPieceKey,
  deleteRequestPrefix,
  deleteRequestsPrefix,
  deleteRequestTenantOf,
} from '../storage/keys.js';
import { type DeleteRequest, deleteRequestId, type NewDeleteRequest } from './request.js';

/*
 * Delete requests in the object store (layout in README.md): one immutable object per request with its
 * pieces, and one empty object per piece that is processed or cancelled since. Nothing is rewritten in
 * place, so a store that only creates and deletes objects (S3) keeps them consistent, and a request
 * survives restarts of every process.
 */

/** The body of request.json. */
interface StoredRequest {
  readonly request_id: string;
  readonly query: string;
  readonly created_at: number;
  readonly pieces: ReadonlyArray<{ readonly start_time: number; readonly end_time: number }>;
}

export class DeleteRequestNotFoundError extends LokiError {
  constructor() {
    super('not_found', 'delete_request_not_found', 'could not find delete request with given id');
  }
}

export interface DeleteRequestStoreOptions {
  /** Unix ms (an injectable clock for tests). */
  readonly now?: () => number;
  /** Unix ns for request ids and cache generations; by default from `now` and a counter. */
  readonly nowNs?: () => bigint;
}

export class DeleteRequestStore {
  private readonly now: () => number;
  private readonly nowNs: () => bigint;
  /** request.json objects are immutable: parsed once. */
  private readonly parsed = new Map<string, StoredRequest>();
  private readonly listeners: Array<(tenant: string) => void> = [];

  constructor(
    private readonly objects: ObjectStore,
    opts: DeleteRequestStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.nowNs = opts.nowNs ?? uniqueNowNs(this.now);
  }

  /** `fn` is called after every change of a tenant's requests made through this store. */
  onChange(fn: (tenant: string) => void): void {
    this.listeners.push(fn);
  }

  /** Stores a new request (all its pieces, status received) and moves the tenant's cache generation on. */
  async add(tenant: string, request: NewDeleteRequest): Promise<DeleteRequest[]> {
    let requestId = deleteRequestId(tenant, this.nowNs(), request.query);
    // Ids are 32-bit hashes: a clash with an existing request of the tenant gets a new one.
    while ((await this.objects.list(deleteRequestPrefix(tenant, requestId))).length > 0) requestId = deleteRequestId(tenant, this.nowNs(), request.query);
    const stored: StoredRequest = {
      request_id: requestId,
      query: request.query,
      created_at: this.now(),
      pieces: request.pieces.map((p) => ({ start_time: p.startMs, end_time: p.endMs })),
    };
    await this.objects.put(deleteRequestKey(tenant, requestId), Buffer.from(JSON.stringify(stored)));
    await this.changed(tenant);
    return piecesOf(tenant, stored, new Map());
  }

  /** Every piece of the tenant's requests that is not cancelled, with its status. */
  async forTenant(tenant: string): Promise<DeleteRequest[]> {
    const keys = await this.objects.list(deleteRequestsPrefix(tenant));
    const states = new Map<string, Map<number, 'processed' | 'cancelled'>>();
    const requests: string[] = [];
    for (const key of keys) {
      const at = deleteRequestKeyOf(tenant, key);
      if (!at) continue;
      if (at.kind === 'request') requests.push(key);
      else {
        let byPiece = states.get(at.requestId);
        if (!byPiece) states.set(at.requestId, (byPiece = new Map()));
        // A piece cancelled after it was processed cannot happen (only received pieces are cancelled).
        if (!byPiece.has(at.seq) || at.kind === 'cancelled') byPiece.set(at.seq, at.kind);
      }
    }
    const out: DeleteRequest[] = [];
    for (const key of requests) {
      const stored = await this.read(key);
      if (stored) out.push(...piecesOf(tenant, stored, states.get(stored.request_id) ?? new Map()));
    }
    return out;
  }

  /** The pieces of one request, in order; DeleteRequestNotFoundError when it has none. */
  async request(tenant: string, requestId: string): Promise<DeleteRequest[]> {
    const pieces = (await this.forTenant(tenant)).filter((p) => p.requestId === requestId).sort((a, b) => a.seq - b.seq);
    if (pieces.length === 0) throw new DeleteRequestNotFoundError();
    return pieces;
  }

  /**
   * Cancels `pieces` (all of one request). When no piece of the request is left, every object of it goes;
   * else each cancelled piece is recorded, and the processed ones stay listed.
   */
  async cancel(tenant: string, requestId: string, pieces: readonly DeleteRequest[]): Promise<void> {
    const all = await this.request(tenant, requestId);
    if (pieces.length === all.length) {
      const keys = await this.objects.list(deleteRequestPrefix(tenant, requestId));
      const request = deleteRequestKey(tenant, requestId);
      // The request object last: until it goes, a listing still finds the request and its states.
      for (const key of keys) if (key !== request) await this.objects.delete(key);
      await this.objects.delete(request);
    } else {
      for (const p of pieces) await this.objects.put(deleteRequestPieceKey(tenant, requestId, 'cancelled', p.seq), Buffer.alloc(0));
    }
    await this.changed(tenant);
  }

  /** Records that the compactor has removed what `piece` matches from storage. */
  async markProcessed(piece: DeleteRequest): Promise<void> {
    await this.objects.put(deleteRequestPieceKey(piece.tenant, piece.requestId, 'processed', piece.seq), Buffer.alloc(0));
    await this.changed(piece.tenant);
  }

  /** The tenants that have delete requests (for the compactor). */
  async tenants(): Promise<string[]> {
    const tenants = new Set<string>();
    for (const key of await this.objects.list(DELETE_REQUESTS_ROOT)) {
      const t = deleteRequestTenantOf(key);
      if (t !== undefined) tenants.add(t);
    }
    return [...tenants];
  }

  /**
   * Loki's cache generation number of the tenant: a new one (unix ns) at every change of its requests, so
   * results cached before the change are not served after it; '' when it never had one.
   */
  async cacheGeneration(tenant: string): Promise<string> {
    const keys = await this.objects.list(cacheGenerationPrefix(tenant));
    const last = keys.at(-1);
    return last === undefined ? '' : BigInt(last.slice(cacheGenerationPrefix(tenant).length)).toString();
  }

  private async changed(tenant: string): Promise<void> {
    const key = cacheGenerationKey(tenant, this.nowNs());
    await this.objects.put(key, Buffer.alloc(0));
    for (const old of await this.objects.list(cacheGenerationPrefix(tenant))) if (old < key) await this.objects.delete(old);
    for (const fn of this.listeners) fn(tenant);
  }

  /** A request object, or undefined when it went (cancelled) between the listing and the read. */
  private async read(key: string): Promise<StoredRequest | undefined> {
    const cached = this.parsed.get(key);
    if (cached) return cached;
    let bytes: Buffer;
    try {
      bytes = await this.objects.get(key);
    } catch (e) {
      if (e instanceof LokiError && e.code === 'object_not_found') return undefined;
      throw e;
    }
    const stored = JSON.parse(bytes.toString('utf8')) as StoredRequest;
    this.parsed.set(key, stored);
    return stored;
  }
}

/** The pieces of a stored request that are not cancelled. */
function piecesOf(tenant: string, stored: StoredRequest, states: ReadonlyMap<number, 'processed' | 'cancelled'>): DeleteRequest[] {
  return stored.pieces.flatMap((p, seq): DeleteRequest[] =>
    states.get(seq) === 'cancelled'
      ? []
      : [
          {
            tenant,
            requestId: stored.request_id,
            seq,
            query: stored.query,
            startMs: p.start_time,
            endMs: p.end_time,
            createdAtMs: stored.created_at,
            status: states.get(seq) === 'processed' ? 'processed' : 'received',
          },
        ],
  );
}

/** The clock in ns, one more than last time when the ms have not moved: ids and generations never repeat. */
function uniqueNowNs(now: () => number): () => bigint {
  let last = 0n;
  return () => {
    const ns = BigInt(now()) * 1_000_000n;
    last = ns > last ? ns : last + 1n;
    return last;
  };
}
