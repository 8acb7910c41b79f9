/**
 * The demo's alert summary: each alert as severity, rule and server, its one-line message wrapped to the terminal,
 * and, for changed definitions (the rug pull), the unified diff the drift detector attached.
 */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { SHORT_ID, severityName } from '../alertView/alertView.js';

const WIDTH = 100;
const INDENT = ' '.repeat(11);
const MAX_DIFF_LINES = 30;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Writes the alerts, most severe first (then in time order), to `out`. */
export function writeAlertSummary(alerts: readonly McpAlert[], out: (text: string) => void): void {
  const sorted = [...alerts].sort((a, b) => b.event.severity - a.event.severity || a['@timestamp'].localeCompare(b['@timestamp']) || a.rule.id.localeCompare(b.rule.id));
  out(`\nAlerts (${sorted.length}): what the Sigma rule pack and the stateful detectors raised, most severe first\n`);
  for (const alert of sorted) {
    const severity = severityName(alert.event.severity).toUpperCase().padEnd(INDENT.length - 2);
    out(`\n  ${severity}${alert.rule.name}  [${alert.rule.category}${alert.mcp?.server?.name ? ` · ${alert.mcp.server.name}` : ''}]  ${alert.alert.fingerprint.slice(0, SHORT_ID)}\n`);
    for (const line of wrap(alert.message, WIDTH - INDENT.length)) out(`${INDENT}${line}\n`);
    const diff = (alert.alert.details as { diff?: unknown } | undefined)?.diff;
    if (typeof diff === 'string' && diff !== '') {
      const lines = diff.trimEnd().split('\n');
      for (const line of lines.slice(0, MAX_DIFF_LINES)) out(`${INDENT}${line}\n`);
      if (lines.length > MAX_DIFF_LINES) out(`${INDENT}… ${lines.length - MAX_DIFF_LINES} more diff lines (tapwire alerts --json)\n`);
    }
  }
}
