import { labelsFromRecord, labelsToRecord, LokiError, sortLabels } from '@loki-lite/shared';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../syntax/parser.js';
import type { LogSelectorExpr, RangeAggregationExpr } from '../syntax/ast.js';
import { MAX_JSON_DEPTH } from './parsers.js';
import { compilePipeline, compileUnwrap } from './pipeline.js';
import { MAX_TEMPLATE_DEPTH, TemplateError } from './template/parse.js';

const STREAM = sortLabels(labelsFromRecord({ app: 'api', level: 'stream-level' }));

/** Runs `{app="api"} <pipeline>` over one line: the resulting line and labels (stream labels left out). */
function run(pipeline: string, line: string, ts = 1_700_000_000_123_456_789n) {
  const expr = parseQuery(`{app="api"} ${pipeline}`) as LogSelectorExpr;
  const out = compilePipeline(expr.pipeline).forStream(STREAM).process(line, ts, []);
  if (!out) return undefined;
  const labels = labelsToRecord(out.labels);
  delete labels.app;
  return { line: out.line, labels };
}

describe('json', () => {
  it.each([
    [
      'flattens nested objects with _, skips arrays and nulls, keeps numbers and booleans as written',
      '{"a":{"b":{"c":"x"}},"arr":[1,2],"n":null,"num":-1.5e3,"ok":true,"s":"q \\"w\\" \\u00e9"}',
      { a_b_c: 'x', num: '-1.5e3', ok: 'true', s: 'q "w" é', level: 'stream-level' },
    ],
    [
      'names a key that clashes with a stream label <key>_extracted, and sanitizes names',
      '{"level":"info","http.status":200,"2xx":"y"}',
      { level: 'stream-level', level_extracted: 'info', http_status: '200', _2xx: 'y' },
    ],
    [
      "marks a line that is not an object with jsonparser's error text",
      'plain text',
      { level: 'stream-level', __error__: 'JSONParserErr', __error_details__: "Value looks like object, but can't find closing '}' symbol" },
    ],
    ['marks a truncated object', '{"broken json": ', { level: 'stream-level', __error__: 'JSONParserErr', __error_details__: 'Malformed JSON error' }],
  ])('%s', (_what, line, labels) => {
    expect(run('| json', line)!.labels).toEqual(labels);
  });

  it('follows objects nested up to MAX_JSON_DEPTH levels, and marks a line nested deeper instead of overflowing', () => {
    const nested = (levels: number) => `{"x":"y",${'"a":{'.repeat(levels - 1)}"b":1${'}'.repeat(levels)}`;
    expect(run('| json', nested(MAX_JSON_DEPTH))!.labels).toEqual({ level: 'stream-level', x: 'y', [`${'a_'.repeat(MAX_JSON_DEPTH - 1)}b`]: '1' });
    const tooDeep = { level: 'stream-level', x: 'y', __error__: 'JSONParserErr', __error_details__: 'exceeded max depth' };
    expect(run('| json', nested(MAX_JSON_DEPTH + 1))!.labels).toEqual(tooDeep);
    expect(run('| json', nested(50_000))!.labels).toEqual(tooDeep);
  });

  it('extracts expressions: fields, indexes, quoted names; a missing path is ""; objects as JSON text', () => {
    const line = '{"nested":{"a":{"b":[1,2,{"c":"deep"}]}},"arr":[10,20],"odd key":{"x":1}}';
    expect(run('| json first="arr[0]", deep="nested.a.b[2].c", obj="nested.a", odd=`["odd key"].x`, none="nope.no"', line)!.labels).toEqual({
      level: 'stream-level',
      first: '10',
      deep: 'deep',
      obj: '{"b":[1,2,{"c":"deep"}]}',
      odd: '1',
      none: '',
    });
  });

  it.each(['0]', 'arr[0]0]', '[x]', 'a['])('refuses the expression %j as Loki does (a 400)', (expression) => {
    expect(() => run(`| json x="${expression}"`, '{}')).toThrow(`parse error : cannot parse expression [${expression}]: syntax error`);
  });
});

describe('logfmt', () => {
  it.each([
    ['pairs, quoted values with escapes, bare keys as ""', 'a=1 b="two words" c="q\\"x" d= e', { a: '1', b: 'two words', c: 'q"x', d: '', e: '' }],
    [
      "stops at the first syntax error, keeping what came before, with Loki's text",
      'a=1 b="open c=3',
      { a: '1', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 16 : unterminated quoted value' },
    ],
    [
      'an unexpected quote in a key',
      'x=1 say"hi"',
      { x: '1', __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 8 : unexpected '\"'" },
    ],
  ])('%s', (_what, line, labels) => {
    expect(run('| logfmt', line)!.labels).toEqual({ level: 'stream-level', ...labels });
  });

  it('named extractions keep only those keys, renamed', () => {
    expect(run('| logfmt lat="latency", msg', 'latency=5ms msg=hi other=x')!.labels).toEqual({ level: 'stream-level', lat: '5ms', msg: 'hi' });
  });
});

describe('regexp, pattern, unpack', () => {
  it('regexp sets its named groups, "" for one that did not take part, nothing when it does not match', () => {
    expect(run('| regexp `(?P<method>GET|POST) (?P<path>\\S+)( (?P<proto>HTTP/\\d))?`', 'GET /x')!.labels).toEqual({
      level: 'stream-level',
      method: 'GET',
      path: '/x',
      proto: '',
    });
    expect(run('| regexp `(?P<method>GET|POST)`', 'PUT /x')!.labels).toEqual({ level: 'stream-level' });
  });

  it('pattern captures up to the next literal; <_> skips; a missing literal ends the captures', () => {
    expect(run('| pattern `<ip> - <_> [<ts>] "<method> <path> <_>" <status>`', '10.0.0.1 - - [now] "GET /a HTTP/1.1" 200')!.labels).toEqual({
      level: 'stream-level',
      ip: '10.0.0.1',
      ts: 'now',
      method: 'GET',
      path: '/a',
      status: '200',
    });
    expect(run('| pattern `<a> | <b>`', 'no separator here')!.labels).toEqual({ level: 'stream-level', a: 'no separator here' });
  });

  it('unpack turns string fields into labels and _entry into the line', () => {
    expect(run('| unpack', '{"_entry":"the line","pod":"p1","n":3}')).toEqual({ line: 'the line', labels: { level: 'stream-level', pod: 'p1' } });
  });
});

describe('label filters', () => {
  it.each([
    ['| logfmt | n > 5', 'n=7', true],
    ['| logfmt | n > 5', 'n=3', false],
    ['| logfmt | n == 3 or s="x"', 'n=1 s=x', true],
    ['| logfmt | n == 3, s="x"', 'n=3 s=y', false],
    ['| logfmt | n == 1 or n == 2 and s="x"', 'n=1 s=y', true], // and binds tighter
    ['| logfmt | (n == 1 or n == 2) and s="x"', 'n=1 s=y', false],
    ['| logfmt | d > 1s', 'd=1500ms', true],
    ['| logfmt | d > 1s', 'd=900ms', false],
    ['| logfmt | b >= 1KB', 'b=1000B', true], // go-humanize: KB is 1000
    ['| logfmt | b >= 1KiB', 'b=1000B', false],
    ['| logfmt | missing > 1', 'n=1', false],
    ['| logfmt | missing = ""', 'n=1', true],
    ['| logfmt | addr = ip("10.0.0.0/8")', 'addr=10.1.2.3', true],
    ['| logfmt | addr != ip("10.0.0.0/8")', 'addr=10.1.2.3', false],
    ['| logfmt | addr = ip("192.168.0.1-192.168.0.9")', 'addr=192.168.0.5', true],
  ])('%s over %j: %s', (pipeline, line, kept) => {
    expect(run(pipeline, line) !== undefined).toBe(kept);
  });

  it('a value that does not convert keeps the line with LabelFilterErr, which __error__="" then drops', () => {
    expect(run('| logfmt | n > 5', 'n=abc')!.labels).toMatchObject({
      __error__: 'LabelFilterErr',
      __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax',
    });
    expect(run('| logfmt | n > 5 | __error__=""', 'n=abc')).toBeUndefined();
  });

  it.each(['10.0.3.0/224', '::1/129', '10.0.0.9-10.0.0.1', '10.0.0.1-::1', '10.0.0.256'])('ip("%s") is an invalid pattern (a 400)', (pattern) => {
    const invalid = `parse error : ip: invalid pattern "${pattern}"`;
    expect(() => run(`|= ip("${pattern}")`, 'x')).toThrow(new LokiError('bad_data', 'parse_error', invalid));
    expect(() => run(`| logfmt | addr = ip("${pattern}")`, 'x')).toThrow(invalid);
  });

  it('ip() and pattern line filters', () => {
    expect(run('|= ip("192.168.0.0/24")', 'from 192.168.0.77 ok')).toBeDefined();
    expect(run('|= ip("192.168.0.0/24")', 'from 192.168.1.77 ok')).toBeUndefined();
    expect(run('|> "<_> GET <_>"', 'x GET /y')).toBeDefined();
    expect(run('!> "<_> GET <_>"', 'x GET /y')).toBeUndefined();
  });
});

describe('line_format and label_format', () => {
  it.each([
    ['{{.n}}: {{ .msg | ToUpper }}', 'n=1 msg=hi', '1: HI'],
    ['{{ if eq .level "stream-level" }}S{{ else if .x }}X{{ else }}-{{ end }}', 'x=1', 'S'],
    ['{{ .t | int | add 1000 }} {{ .f | float64 | mulf 2 }} {{ div 7 2 }} {{ 1000000.0 }}', 't=5 f=1.25', '1005 2.5 3 1e+06'],
    [
      '{{ __line__ | trunc 5 }}|{{ .p | replace "s3://" "" }}|{{ regexReplaceAll "s3://([^/]+)/.*" .p "${1}" }}',
      'p=s3://bucket/key',
      'p=s3:|bucket/key|bucket',
    ],
    ['{{ .missing }}|{{ .msg | default "none" }}|{{ "a b" | title }}|{{ .msg | lower | upper }}', 'msg=', '|none|A B|'],
    ['{{ __timestamp__ | date "2006-01-02T15:04:05.000Z07:00" }} {{ __timestamp__ | unixEpoch }}', 'x=1', '2023-11-14T22:13:20.123Z 1700000000'],
    ['{{- .n -}}  ', 'n=7', '7'],
    ['{{ printf "%05.1f|%s|%d" (.f | float64) .msg 42 }}', 'f=3.14159 msg=m', '003.1|m|42'],
    // Go's fmt flags: zeros pad strings too; the sign goes before the zeros; `-` pads right; width counts runes
    ['{{ printf "%05s|%-4s|%4s" .msg .msg .msg }}', 'msg=ab', '000ab|ab  |  ab'],
    ['{{ printf "%05d|%+d|% d|%+06.1f|%-5d|" -42 7 7 (.f | float64) -3 }}', 'f=-2.25', '-0042|+7| 7|-002.2|-3   |'],
    ['{{ printf "%3s|%.2s" .msg .msg }}', 'msg=éa', ' éa|éa'],
  ])('%s', (template, line, expected) => {
    expect(run(`| logfmt | line_format \`${template}\``, line)!.line).toBe(expected);
  });

  it('a function that fails while a line is formatted marks the line with TemplateFormatErr, also as an argument', () => {
    for (const template of ['{{ div 1 0 }}', '{{ and lower }}']) {
      expect(run(`| line_format "${template}"`, 'x')!.labels).toMatchObject({ __error__: 'TemplateFormatErr' });
    }
    expect(run('| line_format "{{ and lower }}"', 'x')!.labels.__error_details__).toContain('wrong number of args for lower: want 1 got 0');
  });

  it('a number no float64 holds is a parse-time error, as in Go', () => {
    for (const literal of [`1${'0'.repeat(400)}`, `0x${'f'.repeat(300)}`, '1e400']) {
      expect(() => run(`| line_format "{{ ${literal} }}"`, 'x')).toThrow(`template: line:1: illegal number syntax: "${literal}"`);
    }
  });

  it('an unknown function is a parse-time error, as in Go', () => {
    expect(() => run('| line_format "{{ nope .x }}"', 'x')).toThrow('function "nope" not defined');
  });

  it("templates nest parentheses and blocks up to MAX_TEMPLATE_DEPTH levels together, and refuse deeper with Go's words", () => {
    const nested = (blocks: number, parens: number) =>
      `| logfmt | line_format \`${'{{ if .x }}'.repeat(blocks)}{{ ${'('.repeat(parens)}.x${')'.repeat(parens)} }}${'{{ end }}'.repeat(blocks)}\``;
    expect(run(nested(MAX_TEMPLATE_DEPTH / 2, MAX_TEMPLATE_DEPTH / 2), 'x=1')!.line).toBe('1');
    expect(() => run(nested(MAX_TEMPLATE_DEPTH / 2, MAX_TEMPLATE_DEPTH / 2 + 1), 'x=1')).toThrow(
      new TemplateError('template: line:1: max expression depth exceeded'),
    );
    expect(() => run(`| label_format y="{{ if .x }}a${'{{ else if .y }}b'.repeat(MAX_TEMPLATE_DEPTH)}{{ end }}"`, 'x=1')).toThrow(
      'template: label:1: max expression depth exceeded',
    );
  });

  it('label_format renames and templates; templates see the labels as they were before the stage', () => {
    expect(run('| logfmt | label_format r="r{{.rank}}", rank2=rank', 'rank=2')!.labels).toEqual({ level: 'stream-level', r: 'r2', rank2: '2' });
  });

  it('drop and keep, with matchers', () => {
    expect(run('| logfmt | drop a, b="2"', 'a=1 b=2 c=3')!.labels).toEqual({ level: 'stream-level', c: '3' });
    expect(run('| logfmt | keep app, c', 'a=1 b=2 c=3')!.labels).toEqual({ c: '3' });
  });

  /*
   * Loki 2.8: drop resets __error__ and __error_details__ each on its own (DropLabels), and a line's labels
   * carry __error_details__ only while __error__ is set or some stage added or deleted a label
   * (LabelsBuilder.LabelsResult answers the unchanged stream labels otherwise; Map, for templates, too).
   */
  describe('__error_details__ after drop', () => {
    const LOGFMT_QUOTE = { __error_details__: "logfmt syntax error at pos 8 : unexpected '\"'" };
    const LOWER_ARGS = {
      __error_details__: 'template: label:1:0: executing "label" at <lower>: error calling lower: wrong number of args for lower: want 1 got 0',
    };
    it.each([
      ['logfmt took nothing from the line: the details go with __error__', '| logfmt | drop __error__', '{"nested":1}', {}],
      ['logfmt took a label before failing: the details stay', '| logfmt | drop __error__', 'x=1 say"hi"', { x: '1', ...LOGFMT_QUOTE }],
      ['both dropped', '| logfmt | drop __error__, __error_details__', 'x=1 say"hi"', { x: '1' }],
      ['__error__ dropped by a matching value', '| logfmt | drop __error__="LogfmtParserErr"', '{"nested":1}', {}],
      [
        'a value that does not match drops nothing',
        '| logfmt | drop __error__="JSONParserErr"',
        '{"nested":1}',
        { __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 2 : unexpected '\"'" },
      ],
      ['json on a line that is not an object', '| json | drop __error__', 'plain text', {}],
      ['only the details dropped: __error__ stays', '| json | drop __error_details__', 'plain text', { __error__: 'JSONParserErr' }],
      ['unpack on a line that is not an object', '| unpack | drop __error__', 'plain text', {}],
      ['label_format that set nothing', '| label_format x="{{ and lower }}" | drop __error__', 'a', {}],
      ['label_format that set another label', '| label_format y="ok", x="{{ and lower }}" | drop __error__', 'a', { y: 'ok', ...LOWER_ARGS }],
      [
        'a label filter error after logfmt took the label',
        '| logfmt | n > 5 | drop __error__',
        'n=abc',
        { n: 'abc', __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax' },
      ],
      [
        'a drop that deletes an absent label with a matcher counts as a change',
        '| logfmt | drop __error__, nope=""',
        '{"nested":1}',
        { __error_details__: "logfmt syntax error at pos 2 : unexpected '\"'" },
      ],
    ])('%s', (_what, pipeline, line, labels) => {
      expect(run(pipeline, line)!.labels).toEqual({ level: 'stream-level', ...labels });
    });

    it('regexp sets no error, so there is nothing to drop', () => {
      expect(run('| regexp "(?P<a>x+)" | drop __error__', 'yyy')!.labels).toEqual({ level: 'stream-level' });
    });

    it('templates see the details exactly when the labels carry them', () => {
      const format = '| logfmt | drop __error__ | line_format "[{{.__error_details__}}]"';
      expect(run(format, '{"nested":1}')!.line).toBe('[]');
      expect(run(format, 'x=1 say"hi"')!.line).toBe(`[${LOGFMT_QUOTE.__error_details__}]`);
    });
  });

  it('decolorize strips ANSI escapes', () => {
    expect(run('| decolorize', '\x1b[31mred\x1b[0m and \x1b[1;32mgreen\x1b[0m')!.line).toBe('red and green');
  });
});

describe('unwrap', () => {
  const extract = (query: string, line: string) => {
    const expr = parseQuery(query) as RangeAggregationExpr;
    const stream = compilePipeline(expr.selector.pipeline).forStream(STREAM);
    stream.run(line, 0n, []);
    const value = compileUnwrap(expr.selector.unwrap!)(stream.builder);
    return { value, labels: labelsToRecord(stream.builder.result().labels) };
  };

  it.each([
    ['sum_over_time({app="api"} | logfmt | unwrap n [1m])', 'n=2.5 x=1', 2.5],
    ['sum_over_time({app="api"} | logfmt | unwrap bytes(b) [1m])', 'b=2KiB', 2048],
    ['sum_over_time({app="api"} | logfmt | unwrap duration(d) [1m])', 'd=1m30s', 90],
    ['sum_over_time({app="api"} | logfmt | unwrap duration_seconds(d) [1m])', 'd=250ms', 0.25],
  ])('%s over %j is %d, and the unwrapped label is gone', (query, line, value) => {
    const out = extract(query, line);
    expect(out.value).toBe(value);
    expect(Object.keys(out.labels).some((k) => ['n', 'b', 'd'].includes(k))).toBe(false);
  });

  it('skips a line without the label; marks one that does not convert; post-unwrap filters can drop it', () => {
    expect(extract('sum_over_time({app="api"} | logfmt | unwrap n [1m])', 'x=1').value).toBeUndefined();
    expect(extract('sum_over_time({app="api"} | logfmt | unwrap n [1m])', 'n=abc').labels).toMatchObject({ __error__: 'SampleExtractionErr' });
    expect(extract('sum_over_time({app="api"} | logfmt | unwrap n | __error__="" [1m])', 'n=abc').value).toBeUndefined();
  });
});

describe('parser hints', () => {
  it('logfmt with only some labels wanted keeps exactly those, including sanitized and _extracted names', () => {
    const expr = parseQuery('{app="api"} | logfmt') as LogSelectorExpr;
    const stream = compilePipeline(expr.pipeline, new Set(['http_status', 'level_extracted', '_2xx'])).forStream(STREAM);
    const out = stream.process('http.status=500 level=warn 2xx=3 other=1 msg="skip me"', 0n, [])!;
    expect(labelsToRecord(out.labels)).toEqual({ app: 'api', level: 'stream-level', http_status: '500', level_extracted: 'warn', _2xx: '3' });
  });

  it('logfmt stops reading a line once every wanted label is found, as Loki does', () => {
    const expr = parseQuery('{app="api"} | logfmt') as LogSelectorExpr;
    const line = 'a=1 b="never closed';
    const hinted = compilePipeline(expr.pipeline, new Set(['a']))
      .forStream(STREAM)
      .process(line, 0n, [])!;
    expect(labelsToRecord(hinted.labels)).toEqual({ app: 'api', level: 'stream-level', a: '1' });
    const full = compilePipeline(expr.pipeline).forStream(STREAM).process(line, 0n, [])!;
    expect(labelsToRecord(full.labels)).toMatchObject({ a: '1', __error__: 'LogfmtParserErr' });
  });
});

describe('json parser hints', () => {
  it('json with only some labels wanted keeps exactly those, nested ones too, and still sees a malformed line', () => {
    const expr = parseQuery('{app="api"} | json') as LogSelectorExpr;
    const stream = compilePipeline(expr.pipeline, new Set(['latency_ms', 'req_user_id', 'level_extracted', '__error__'])).forStream(STREAM);
    const out = stream.process('{"msg":"skip me","latency_ms":12,"req":{"user":{"id":"u1"},"path":"/x"},"other":{"a":1},"level":"warn"}', 0n, [])!;
    expect(labelsToRecord(out.labels)).toEqual({ app: 'api', level: 'stream-level', latency_ms: '12', req_user_id: 'u1', level_extracted: 'warn' });
    const bad = stream.process('{"latency_ms":12,"msg":"never closed', 0n, [])!;
    expect(labelsToRecord(bad.labels)).toMatchObject({ __error__: 'JSONParserErr' });
  });
});

describe('case-insensitive line filters', () => {
  it.each([
    ['ERROR: disk full', true],
    ['Disk Error', true],
    ['warning', false],
  ])('|~ "(?i)error" over %j keeps it: %s', (line, kept) => {
    expect(run('|~ "(?i)error"', line) !== undefined).toBe(kept);
  });

  it('folds with Unicode simple case folding, as Go: (?i)kelvin matches the Kelvin sign, (?i)ss matches ſſ', () => {
    expect(run('|~ "(?i)kelvin"', 'at 300 \u212Aelvin')?.line).toBe('at 300 \u212Aelvin');
    expect(run('|~ "(?i)ss"', 'cla\u017F\u017F')).toBeDefined();
    expect(run('!~ "(?i)ss"', 'cla\u017F\u017F')).toBeUndefined();
  });
});
