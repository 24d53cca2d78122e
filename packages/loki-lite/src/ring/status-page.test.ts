import { describe, expect, it } from 'vitest';
import type { InstanceDesc, RingDesc } from './desc.js';
import { Ring } from './ring.js';
import { goFloat3g, goTimeJson, ownedRanges, ringPage, ringStatusHtml, ringStatusJson } from './status-page.js';

const NOW = Date.UTC(2026, 11, 3, 21, 18, 25, 120); // 2026-12-03T21:18:25.12Z
const T = Math.floor(NOW / 1000);

function entry(id: string, tokens: number[], over: Partial<InstanceDesc> = {}): InstanceDesc {
  return { id, addr: `10.0.0.${id.slice(-1)}:9095`, zone: '', state: 'ACTIVE', tokens, timestamp: T - 5, registered_timestamp: T - 3600, ...over };
}

const descOf = (...entries: InstanceDesc[]): RingDesc => ({ ingesters: Object.fromEntries(entries.map((e) => [e.id, e])) });

// a owns (3/4 of 2^32, 2^32] and (0, 1/4], b owns (1/4, 3/4]: half each
const half = 2 ** 30;
const twoHalves = () => descOf(entry('ingester-1', [3 * half], { state: 'LEAVING' }), entry('ingester-0', [half]));

describe('/ring as JSON', () => {
  it("answers dskit's httpResponse: shards sorted by id, Go's time encoding, now", () => {
    const stale = entry('ingester-2', [], { state: 'PENDING', timestamp: T - 120, registered_timestamp: 0, zone: 'z2' });
    const json = JSON.parse(ringStatusJson({ ingesters: { ...twoHalves().ingesters, 'ingester-2': stale } }, NOW, 60_000));
    expect(json.now).toBe('2026-12-03T21:18:25.12Z');
    expect(json.shards).toEqual([
      {
        id: 'ingester-0',
        state: 'ACTIVE',
        address: '10.0.0.0:9095',
        timestamp: '2026-12-03T21:18:20Z',
        registered_timestamp: '2026-12-03T20:18:25Z',
        read_only: false,
        read_only_updated_timestamp: '0001-01-01T00:00:00Z',
        zone: '',
        tokens: [half],
      },
      expect.objectContaining({ id: 'ingester-1', state: 'LEAVING', tokens: [3 * half] }),
      expect.objectContaining({ id: 'ingester-2', state: 'UNHEALTHY', registered_timestamp: '0001-01-01T00:00:00Z', zone: 'z2', tokens: null }),
    ]);
  });
});

describe('/ring as HTML', () => {
  it('renders one row per instance with zone, state, address, times, token count, ownership and a Forget button', () => {
    const html = ringStatusHtml(twoHalves(), NOW, 60_000, false);
    expect(html).toContain('<title>Ring Status</title>');
    expect(html).toContain('<p>Current time: 2026-12-03 21:18:25.12 +0000 UTC</p>');
    const row0 = html.slice(html.indexOf('<td>ingester-0</td>'), html.indexOf('</tr>', html.indexOf('<td>ingester-0</td>')));
    const cells = [...row0.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(cells).toEqual(['ingester-0', '', 'ACTIVE', '10.0.0.0:9095', '2026-12-03T20:18:25Z', '', '', '5s ago (21:18:20)', '1', '50%']);
    expect(row0).toContain('<button name="forget" value="ingester-0" type="submit">Forget</button>');
    expect(html).toContain('<form action="" method="POST">');
    expect(html).toContain('value="Show Tokens"');
    expect(html).not.toContain('Tokens:<br/>');
  });

  it('lists the tokens with ?tokens=true and escapes what instances report', () => {
    const html = ringStatusHtml(descOf(entry('<script>1', [7, 9])), NOW, 60_000, true);
    expect(html).not.toContain('<script>');
    expect(html).toContain('<h2>Instance: &lt;script&gt;1</h2>');
    expect(html).toContain('7 9');
    expect(html).toContain('value="Hide Tokens"');
  });
});

describe('ownership', () => {
  it('gives each token the range since the previous token of its zone', () => {
    expect(ownedRanges(twoHalves())).toEqual(
      new Map([
        ['ingester-1', 2 * half],
        ['ingester-0', 2 * half],
      ]),
    );
    const zoned = descOf(entry('a1', [half], { zone: 'a' }), entry('b1', [3 * half], { zone: 'b' }), entry('b2', [half], { zone: 'b' }));
    expect(ownedRanges(zoned).get('a1')).toBe(2 ** 32);
    expect(ownedRanges(zoned).get('b1')).toBe(2 * half);
  });

  it("prints as Go's %.3g", () => {
    expect([100.00000002, 33.33333, 50, 0, 0.5, 0.000123456, 0.00001234, 1234.5, 9.999].map(goFloat3g)).toEqual([
      '100',
      '33.3',
      '50',
      '0',
      '0.5',
      '0.000123',
      '1.23e-05',
      '1.23e+03',
      '10',
    ]);
    expect(goTimeJson(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('the /ring route', () => {
  const ring = () => {
    const r = new Ring('ring', {
      replicationFactor: 3,
      heartbeatTimeoutMs: 60_000,
      zoneAwarenessEnabled: false,
      leftTimeoutMs: 300_000,
      autoForgetUnhealthy: false,
      now: () => NOW,
    });
    r.merge(Object.values(twoHalves().ingesters));
    return r;
  };

  it('answers JSON for Accept: application/json and HTML otherwise', () => {
    const r = ring();
    const json = ringPage(r, { method: 'GET', accept: 'application/json, text/plain' });
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body).shards).toHaveLength(2);
    const html = ringPage(r, { method: 'GET', accept: 'text/html' });
    expect(html.headers['content-type']).toBe('text/html');
    expect(html.body).toContain('<td>ingester-1</td>');
  });

  it('forgets the posted instance and redirects back to the page', () => {
    const r = ring();
    expect(ringPage(r, { method: 'POST', forget: 'ingester-1' })).toEqual({ status: 302, headers: { location: '#' }, body: '' });
    expect(Object.keys(r.desc().ingesters)).toEqual(['ingester-0']);
    expect(ringPage(r, { method: 'GET' }).body).not.toContain('ingester-1');
  });
});
