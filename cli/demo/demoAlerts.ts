/**
 * The demo's alert summary: each alert as severity, rule and server, its one-line message wrapped to the terminal,
 * and, for changed definitions (the rug pull), the unified diff the drift detector attached. Informational alerts
 * (the learned tier's hunting band, under its alert threshold) are listed apart, after the detections and marked
 * HUNT, so a reader of the demo does not take them for detections (their stored severity shares the low band).
 */
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { SHORT_ID, severityName } from '../../service/alertView/alertView.js';

const WIDTH = 100;
const INDENT = ' '.repeat(11);
const MAX_DIFF_LINES = 30;
/** Risk score of an informational alert (alertBuilder.ts). */
const INFORMATIONAL_RISK = 10;

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

function writeAlert(alert: McpAlert, label: string, out: (text: string) => void): void {
  out(`\n  ${label.padEnd(INDENT.length - 2)}${alert.rule.name}  [${alert.rule.category}${alert.mcp?.server?.name ? ` · ${alert.mcp.server.name}` : ''}]  ${alert.alert.fingerprint.slice(0, SHORT_ID)}\n`);
  for (const line of wrap(alert.message, WIDTH - INDENT.length)) out(`${INDENT}${line}\n`);
  const diff = (alert.alert.details as { diff?: unknown } | undefined)?.diff;
  if (typeof diff === 'string' && diff !== '') {
    const lines = diff.trimEnd().split('\n');
    for (const line of lines.slice(0, MAX_DIFF_LINES)) out(`${INDENT}${line}\n`);
    if (lines.length > MAX_DIFF_LINES) out(`${INDENT}… ${lines.length - MAX_DIFF_LINES} more diff lines (tapwire alerts --json)\n`);
  }
}

/** Writes the detections, most severe first (then in time order), then the informational hunting leads, to `out`. */
export function writeAlertSummary(alerts: readonly McpAlert[], out: (text: string) => void): void {
  const sorted = [...alerts].sort((a, b) => b.event.severity - a.event.severity || a['@timestamp'].localeCompare(b['@timestamp']) || a.rule.id.localeCompare(b.rule.id));
  const detections = sorted.filter((a) => a.event.risk_score > INFORMATIONAL_RISK);
  const hunting = sorted.filter((a) => a.event.risk_score <= INFORMATIONAL_RISK);
  out(`\nAlerts (${detections.length}): what the Sigma rule pack and the stateful detectors raised, most severe first\n`);
  for (const alert of detections) writeAlert(alert, severityName(alert.event.severity).toUpperCase(), out);
  if (hunting.length === 0) return;
  out(`\nFor hunting (${hunting.length}): informational leads under the learned tier's alert threshold, not detections\n`);
  for (const alert of hunting) writeAlert(alert, 'HUNT', out);
}
