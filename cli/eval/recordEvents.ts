/**
 * A labelled record as the MCP traffic it would be on the wire: a tool description becomes a tools/list result
 * holding that tool, a tool result becomes a tools/call and its result, tool arguments become a tools/call. The
 * transcript goes through the same TranscriptReader and normalizer as `tapwire replay`, so eval judges exactly
 * what a live worker would see. Each record is its own server and session: no record's state leaks into another's.
 */
import type { LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';
import { corpusTranscript, type CorpusItem } from '../ruleTesting/corpusItems.js';
import { transcriptEvents } from '../ruleTesting/transcriptEvents.js';

const toolName = (record: LabelledRecord): string => record.tool_name ?? 'tool';

/** The corpus item a record is on the wire. */
export function recordItem(record: LabelledRecord, line: number): CorpusItem {
  const base = { id: record.id, file: record.origin.replace(/:\d+$/, ''), line, label: record.label, server: `${record.server ?? 'eval'}-${record.id}`, redact: true } as const;
  switch (record.field) {
    case 'tool_description':
      return { ...base, kind: 'tools', payload: [{ name: toolName(record), description: record.text, inputSchema: { type: 'object' } }] };
    case 'tool_result':
      return { ...base, kind: 'result', payload: { name: toolName(record), arguments: {}, result: { content: [{ type: 'text', text: record.text }] } } };
    case 'tool_arguments':
      return { ...base, kind: 'call', payload: { name: toolName(record), arguments: { query: record.text } } };
  }
}

/** The events of a record; `line` orders records in event time. */
export function recordEvents(record: LabelledRecord, line: number): McpEvent[] {
  return transcriptEvents(record.id, corpusTranscript(recordItem(record, line)));
}
