import { formatGoDuration } from '@loki-lite/shared';
import { isHeartbeatHealthy, type RingDesc } from './desc.js';
import type { Ring } from './ring.js';

/**
 * The `/ring` status page as dskit renders it (ring_http.go, ring_status.gohtml): a pure function from the
 * ring's instances and the time to the HTML table or, for `Accept: application/json`, the JSON operators'
 * scripts read (`{"shards": [...], "now": ...}`). POST `forget=<id>` forgets an instance.
 */

/** One row, in the JSON's field names and order (dskit's ingesterDesc). */
export interface RingStatusShard {
  id: string;
  state: string;
  address: string;
  timestamp: string;
  registered_timestamp: string;
  read_only: boolean;
  read_only_updated_timestamp: string;
  zone: string;
  tokens: number[] | null;
}

interface Row {
  shard: RingStatusShard;
  heartbeatMs: number;
  registeredMs: number;
  ownership: number;
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const MAX_UINT32 = 0xffffffff;

/** Rows sorted by id; an instance past the heartbeat timeout shows UNHEALTHY whatever its state, as in dskit. */
function rows(desc: RingDesc, nowMs: number, heartbeatTimeoutMs: number): Row[] {
  const owned = ownedRanges(desc);
  return Object.values(desc.ingesters)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((i) => ({
      shard: {
        id: i.id,
        state: isHeartbeatHealthy(i, heartbeatTimeoutMs, nowMs) ? i.state : 'UNHEALTHY',
        address: i.addr,
        timestamp: goTimeJson(i.timestamp * 1000),
        registered_timestamp: i.registered_timestamp === 0 ? GO_ZERO_TIME : goTimeJson(i.registered_timestamp * 1000),
        // loki-lite has no read-only mode; dskit's fields stay, at their zero values
        read_only: false,
        read_only_updated_timestamp: GO_ZERO_TIME,
        zone: i.zone,
        tokens: i.tokens.length === 0 ? null : i.tokens,
      },
      heartbeatMs: i.timestamp * 1000,
      registeredMs: i.registered_timestamp * 1000,
      ownership: ((owned.get(i.id) ?? 0) / MAX_UINT32) * 100,
    }));
}

/**
 * dskit's Desc.CountTokens: within each zone, every token owns the range from the zone's previous token
 * (exclusive) to itself, which is the range lookups send to it.
 */
export function ownedRanges(desc: RingDesc): Map<string, number> {
  const byZone = new Map<string, Array<[number, string]>>();
  for (const i of Object.values(desc.ingesters)) {
    const zone = byZone.get(i.zone) ?? [];
    for (const t of i.tokens) zone.push([t, i.id]);
    byZone.set(i.zone, zone);
  }
  const owned = new Map<string, number>(Object.keys(desc.ingesters).map((id) => [id, 0]));
  for (const tokens of byZone.values()) {
    tokens.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    tokens.forEach(([token, id], k) => {
      const prev = tokens[k === 0 ? tokens.length - 1 : k - 1]![0];
      owned.set(id, owned.get(id)! + (token > prev ? token - prev : MAX_UINT32 - prev + token + 1));
    });
  }
  return owned;
}

export function ringStatusJson(desc: RingDesc, nowMs: number, heartbeatTimeoutMs: number): string {
  const shards = rows(desc, nowMs, heartbeatTimeoutMs).map((r) => r.shard);
  // Go's json.Encoder ends the document with a newline.
  return JSON.stringify({ shards, now: goTimeJson(nowMs) }) + '\n';
}

export function ringStatusHtml(desc: RingDesc, nowMs: number, heartbeatTimeoutMs: number, showTokens: boolean): string {
  const all = rows(desc, nowMs, heartbeatTimeoutMs);
  const body = all.map((r, i) => tableRow(r, i, nowMs)).join('\n');
  const tokens = showTokens ? all.map((r) => tokenList(r.shard)).join('\n') : '';
  const toggle = showTokens
    ? `<input type="button" value="Hide Tokens" onclick="window.location.href = '?tokens=false' "/>`
    : `<input type="button" value="Show Tokens" onclick="window.location.href = '?tokens=true'"/>`;
  return `<!DOCTYPE html>
<html>
<head>
    <meta charset="UTF-8">
    <title>Ring Status</title>
</head>
<body>
<h1>Ring Status</h1>
<p>Current time: ${goTimeString(nowMs)}</p>
<form action="" method="POST">
    <table width="100%" border="1">
        <thead>
        <tr>
            <th>Instance ID</th>
            <th>Availability Zone</th>
            <th>State</th>
            <th>Address</th>
            <th>Registered At</th>
            <th>Read-Only</th>
            <th>Read-Only Updated</th>
            <th>Last Heartbeat</th>
            <th>Tokens</th>
            <th>Ownership</th>
            <th>Actions</th>
        </tr>
        </thead>
        <tbody>
${body}
        </tbody>
    </table>
    <br>
    ${toggle}
${tokens}
</form>
</body>
</html>
`;
}

function tableRow({ shard, heartbeatMs, registeredMs, ownership }: Row, index: number, nowMs: number): string {
  const cells = [
    shard.id,
    shard.zone,
    shard.state,
    shard.address,
    registeredMs === 0 ? '' : goRfc3339(registeredMs),
    '',
    '',
    `${goDurationSince(heartbeatMs, nowMs)} ago (${goClock(heartbeatMs)})`,
    String(shard.tokens?.length ?? 0),
    `${goFloat3g(ownership)}%`,
  ];
  // dskit shades every other row, starting with the first
  const open = index % 2 === 0 ? '<tr>' : '<tr bgcolor="#BEBEBE">';
  const tds = cells.map((c) => `            <td>${escapeHtml(c)}</td>`).join('\n');
  const forget = `            <td>\n                <button name="forget" value="${escapeHtml(shard.id)}" type="submit">Forget</button>\n            </td>`;
  return `            ${open}\n${tds}\n${forget}\n            </tr>`;
}

function tokenList(shard: RingStatusShard): string {
  return `    <h2>Instance: ${escapeHtml(shard.id)}</h2>\n    <p>\n        Tokens:<br/>\n        ${(shard.tokens ?? []).join(' ')}\n    </p>`;
}

export interface RingPageRequest {
  method: string;
  /** The Accept header. */
  accept?: string;
  /** The `tokens` query parameter: 'true' lists every instance's tokens. */
  tokens?: string;
  /** The `forget` form field of a POST. */
  forget?: string;
}

export interface RingPageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The whole route: a POST forgets and redirects back (dskit's Post/Redirect/Get, `Location: #`); a GET renders
 * JSON when the Accept header asks for it, else the HTML page.
 */
export function ringPage(ring: Ring, req: RingPageRequest): RingPageResponse {
  const { heartbeatTimeoutMs } = ring;
  const nowMs = ring.now();
  if (req.method === 'POST') {
    if (req.forget) ring.forget(req.forget);
    return { status: 302, headers: { location: '#' }, body: '' };
  }
  if (req.accept?.includes('application/json')) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: ringStatusJson(ring.desc(), nowMs, heartbeatTimeoutMs) };
  }
  return { status: 200, headers: { 'content-type': 'text/html' }, body: ringStatusHtml(ring.desc(), nowMs, heartbeatTimeoutMs, req.tokens === 'true') };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);
}

/** Go's time.Time JSON (RFC3339Nano, UTC): trailing zeros of the fraction dropped, no fraction when whole. */
export function goTimeJson(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

/** `timeOrEmptyString`: RFC3339 without the fraction. */
const goRfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** Go's time.Time.String() in UTC, without the monotonic clock reading. */
function goTimeString(ms: number): string {
  const [date, time] = goTimeJson(ms).replace('Z', '').split('T');
  return `${date} ${time} +0000 UTC`;
}

/** `Format "15:04:05.999"`: the fraction, if any, without trailing zeros. */
function goClock(ms: number): string {
  return goTimeJson(ms).split('T')[1]!.replace('Z', '');
}

/** `durationSince` truncated to the second, as Go prints durations (`1m5s`). */
function goDurationSince(ms: number, nowMs: number): string {
  const seconds = Math.trunc((nowMs - ms) / 1000);
  return formatGoDuration(BigInt(seconds) * 1_000_000_000n);
}

/** Go's `%.3g`: 3 significant digits, no trailing zeros, exponent form below 1e-4 or from 1e3. */
export function goFloat3g(f: number): string {
  if (f === 0) return '0';
  const [mantissa, exp] = f.toExponential(2).split('e') as [string, string];
  const e = Number(exp);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (e < -4 || e >= 3) return `${trim(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return trim(f.toFixed(2 - e));
}
