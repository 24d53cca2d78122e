// The public API of @loki-lite/shared.
export { LokiError, type ErrorKind } from './errors.js';

export {
  type Label,
  type Labels,
  NO_METADATA,
  isValidLabelName,
  sortLabels,
  findDuplicateLabelName,
  labelsFromRecord,
  labelsToRecord,
  getLabel,
} from './labels/labels.js';
export { printLabels } from './labels/print.js';
export { parseLabels, LabelParseError } from './labels/parse.js';
export { fingerprint } from './labels/fingerprint.js';
export { goQuote, readGoString, UnquoteError } from './labels/quote.js';
export { lineCol } from './labels/position.js';
export { type LabelMatcher, type LabelMatcherData, type MatchType, newLabelMatcher, matchesAll, matchesEmpty } from './labels/matchers.js';

export { type PushEntry, type PushStream, type PushRequest, type DecodedPushStream, type DecodedPushRequest } from './push/types.js';
export { EntryBatch, EntryColumns } from './push/entry-batch.js';
export { compareParts, nanosOfParts, nanosPartOf, secondsOf, writeInt64Parts } from './push/timestamp-parts.js';
export { decodePushRequestProto, encodePushRequestProto } from './push/protobuf.js';
export { PushRequestBuilder } from './push/request-builder.js';
export { decodePushRequestJson, encodePushRequestJson } from './push/json.js';
export { decodePushBody, type PushBodyOptions, tooLarge } from './push/body.js';
export { PUSH_PROTO } from './push/push-proto.js';

export { parsePromDuration, parseGoDuration, parseDuration, formatGoDuration, formatPromDuration } from './logql-time/duration.js';
export { parseBytes, formatBytes, formatSIBytes } from './logql-time/bytes.js';
export {
  type Conversion,
  goParseFloat,
  goParseDurationSeconds,
  humanBytes,
  parseHumanBytes,
  formatGoFloat,
  formatFloat,
  formatGoFixed,
} from './logql-time/go-values.js';
export {
  type Nanos,
  NANOS_PER_MS,
  NANOS_PER_SECOND,
  TimestampParseError,
  parseRFC3339,
  parseQueryTimestamp,
  formatRFC3339,
  formatRFC3339Nano,
  formatGoTime,
  nowNanos,
} from './logql-time/timestamp.js';

export { snappyCompress, SnappyScratchDecoder, snappyUncompress } from './compression/snappy.js';
export { ByteNeedle } from './search/byte-search.js';

export { duration, byteSize, dayTime, port, csvList } from './config/values.js';
export { ConfigError, expandEnv, parseYamlMapping, validateConfig, deepFreeze, removeKnownUnimplemented } from './config/yaml-config.js';
export { FlagError, type FlagSpec, goUsage, parseGoFlags, tokenizeGoFlags, parseBoolFlag, parsePortFlag, unknownFlag } from './config/go-flags.js';
export { isLogLevel, type LevelControl, type LogFields, type Logger, type LogLevel, silentLogger, stderrLogger } from './log/logger.js';
export { closeOnSignals } from './process/shutdown.js';
export { freePort } from './process/free-port.js';
export { exitWith, StartupError, versionText } from './process/command-line.js';
export { compileGoRegex, translateGoRegex, RegexError } from './regex/go-regex.js';
export { requiredLiterals, type RequiredLiteral } from './regex/go-literals.js';
