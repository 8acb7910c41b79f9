/**
 * How far the recovery of one hand-off got: the count of its events on the bus, kept in a small file beside it
 * (`<session>.handoff.progress`), so that a recovery stopped partway (killed, or its bus failing) is resumed by
 * the next one instead of published again from the start.
 *
 * The count is rewritten in place, at a fixed width, and synced after each publish: an update needs no new disk
 * block, so it still succeeds on a disk that filled up during the recovery (only creating the file needs space,
 * and a recovery that cannot create it does not start).
 */
import { closeSync, existsSync, fdatasyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const SUFFIX = '.progress';
const WIDTH = 20;

export class RecoveryProgress {
  private constructor(
    private readonly file: string,
    private fd: number | undefined,
    /** Events of the hand-off already on the bus. */
    public published: number,
  ) {}

  /** The progress of the hand-off whose unclaimed path is `handoff`: created at 0 the first time. */
  static open(handoff: string): RecoveryProgress {
    const file = `${handoff}${SUFFIX}`;
    if (existsSync(file)) {
      const text = readFileSync(file, 'latin1');
      const published = Number(text.trim());
      if (!/^\d+\s*$/.test(text) || !Number.isSafeInteger(published)) throw new Error(`${file}: not a recovery progress count ('${text.trim().slice(0, 40)}')`);
      return new RecoveryProgress(file, openSync(file, 'r+'), published);
    }
    const progress = new RecoveryProgress(file, openSync(file, 'wx', 0o600), 0);
    progress.record(0);
    return progress;
  }

  /**
   * Removes the progress files whose hand-off is gone: a recovery that finished removes its hand-off, then its
   * progress, and may have stopped in between. `names` is a listing of `directory`.
   */
  static removeOrphans(directory: string, names: readonly string[]): void {
    for (const name of names) {
      if (!name.endsWith(SUFFIX)) continue;
      const handoff = name.slice(0, -SUFFIX.length);
      const isHandoff = (other: string): boolean => other === handoff || (other.startsWith(`${handoff}.`) && /^\d+$/.test(other.slice(handoff.length + 1)));
      // Listed again: a hand-off renamed by a claim at the time of the first listing may have shown under neither name.
      if (names.some(isHandoff) || readdirSync(directory).some(isHandoff)) continue;
      rmSync(join(directory, name), { force: true });
    }
  }

  /** Durably records that the first `published` events are on the bus. */
  record(published: number): void {
    if (this.fd === undefined) throw new Error(`${this.file}: already removed`);
    writeSync(this.fd, Buffer.from(String(published).padEnd(WIDTH - 1, ' ') + '\n', 'latin1'), 0, WIDTH, 0);
    fdatasyncSync(this.fd);
    this.published = published;
  }

  /** Closes the file (the count stays for the next recovery). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The hand-off is fully recorded and removed: so is its progress. */
  remove(): void {
    this.close();
    rmSync(this.file, { force: true });
  }
}
