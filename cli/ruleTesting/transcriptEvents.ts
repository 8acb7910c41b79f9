/**
 * Turns transcript records (docs/ARCHITECTURE.md) written inside rule tests and the corpus into events, through the same
 * TranscriptReader and SessionNormalizer a replay uses, so rules are tested against exactly what workers see.
 * Records are redacted as a collector would; a test can opt out to show what another producer might send.
 */
import { Redactor } from '../../collectors/redaction.js';
import { TranscriptReader } from '../../collectors/transcriptReader.js';
import type { McpEvent } from '../../pipeline/types/mcpEvent.js';

/** One transcript line: a record (or normalized event) and the line of the file it was written on. */
export interface TranscriptLine {
  value: unknown;
  line: number;
}

/** A fixed key: placeholders in tests and corpus runs are the same on every machine. */
const TEST_REDACTION_KEY = 'tapwire rule tests';

/** Leaves every value as it is: events as a producer without redaction would send them. */
class VerbatimRedactor extends Redactor {
  /** Returns the text unchanged. */
  override text(s: string): string {
    return s;
  }

  /** Returns a copy of the value, unchanged. */
  override value(v: unknown): unknown {
    return structuredClone(v);
  }

  /** Returns the arguments unchanged. */
  override args(argv: readonly string[]): string[] {
    return [...argv];
  }
}

const redacting = new Redactor(TEST_REDACTION_KEY);
const verbatim = new VerbatimRedactor(TEST_REDACTION_KEY);

/**
 * The events of one transcript: each line goes through a fresh TranscriptReader named `file`.
 * Throws TranscriptError (FILE:LINE: field …) for a line that is not a valid record or event.
 */
export function transcriptEvents(file: string, lines: readonly TranscriptLine[], options: { redact?: boolean } = {}): McpEvent[] {
  const reader = new TranscriptReader({ file, redactor: options.redact === false ? verbatim : redacting });
  return lines.flatMap(({ value, line }) => reader.line(JSON.stringify(value), line));
}
