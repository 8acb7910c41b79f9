/**
 * Progress for long CLI work (rule tests, replays): one status line rewritten in place when the stream is a
 * terminal. On a pipe or file it writes nothing, and callers print plain lines instead.
 */

const CLEAR_LINE = '\r\x1b[2K';

/** A single updating status line on a terminal stream. */
export class ProgressLine {
  private shown = false;

  /** Writes to `stream` (stderr by default, so stdout stays clean for results). */
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  /** Whether the stream is a terminal, so updates are drawn. */
  get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  /** Replaces the status line with `text`, cut to the terminal's width. */
  update(text: string): void {
    if (!this.interactive) return;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`${CLEAR_LINE}${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.shown = true;
  }

  /** Removes the status line, so the next output starts on a clean line. */
  clear(): void {
    if (!this.shown) return;
    this.stream.write(CLEAR_LINE);
    this.shown = false;
  }
}
