import type { Label, Labels } from '@loki-lite/shared';

/*
 * Loki 3's detected_level (limits_config.discover_log_levels): a level label of the stream, else a level
 * field of the structured metadata, else one found in the line (a JSON or logfmt level field, else
 * keywords), else "unknown". Loki stores it at ingest as structured metadata; loki-lite derives it from
 * the same inputs when the line is read, which answers the same and costs the ingest path nothing.
 */

export const DETECTED_LEVEL = 'detected_level';

const LEVEL_FIELDS = ['level', 'LEVEL', 'Level', 'severity', 'SEVERITY', 'Severity', 'lvl', 'LVL', 'Lvl'];
const LEVEL_FIELD_SET = new Set(LEVEL_FIELDS);

/** A level value as Loki normalizes it, or undefined when it is not one it knows. */
function normalize(v: string): string | undefined {
  switch (v.toLowerCase()) {
    case 'trace':
    case 'trc':
      return 'trace';
    case 'debug':
    case 'dbg':
      return 'debug';
    case 'info':
    case 'inf':
      return 'info';
    case 'warn':
    case 'wrn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'err':
      return 'error';
    case 'critical':
      return 'critical';
    case 'fatal':
      return 'fatal';
    default:
      return undefined;
  }
}

/** Loki's keyword fallback, in its order. */
function fromKeywords(line: string): string {
  if (line.includes('info') || line.includes('INFO')) return 'info';
  if (line.includes('err:') || line.includes('ERR:') || line.includes('error') || line.includes('ERROR')) return 'error';
  if (line.includes('warn:') || line.includes('WARN:') || line.includes('warning') || line.includes('WARNING')) return 'warn';
  if (line.includes('CRITICAL:') || line.includes('critical:')) return 'critical';
  if (line.includes('debug:') || line.includes('DEBUG:')) return 'debug';
  return 'unknown';
}

const JSON_FIELD = /"(level|LEVEL|Level|severity|SEVERITY|Severity|lvl|LVL|Lvl)"\s*:\s*"([^"]*)"/;
const LOGFMT_FIELD = /(?:^|\s)(level|LEVEL|Level|severity|SEVERITY|Severity|lvl|LVL|Lvl)=("([^"]*)"|(\S*))/;

function fromLine(line: string): string {
  const trimmed = line.trim();
  let value: string | undefined;
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) value = JSON_FIELD.exec(line)?.[2];
  else if (line.includes('=')) {
    const m = LOGFMT_FIELD.exec(line);
    value = m ? (m[3] ?? m[4]) : undefined;
  } else return fromKeywords(line);
  return (value !== undefined ? normalize(value) : undefined) ?? fromKeywords(line);
}

/** detected_level for a line, or undefined when the line already carries one. */
export function detectLevel(streamLabels: Labels, metadata: readonly Label[], line: string): string | undefined {
  for (const l of metadata) if (l.name === DETECTED_LEVEL) return undefined;
  for (const l of streamLabels) if (LEVEL_FIELD_SET.has(l.name)) return l.value;
  for (const l of metadata) if (LEVEL_FIELD_SET.has(l.name)) return l.value;
  return fromLine(line);
}
