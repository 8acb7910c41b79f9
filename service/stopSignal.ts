/** Graceful stops for long-running commands (detect, up): Ctrl-C or SIGTERM ends the loop after the work in hand. */

/** Resolves when SIGINT or SIGTERM arrives (or `stop()` is called); `stopping` tells a loop to finish its batch. */
export class StopSignal {
  private resolveStop: () => void = () => undefined;
  private stopped = false;
  /** Settles once a stop was asked for. */
  readonly promise = new Promise<void>((resolve) => {
    this.resolveStop = resolve;
  });

  /** Listens for SIGINT and SIGTERM. */
  constructor() {
    process.once('SIGINT', () => this.stop());
    process.once('SIGTERM', () => this.stop());
  }

  /** Whether a stop was asked for. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Asks the loop to stop. */
  stop(): void {
    this.stopped = true;
    this.resolveStop();
  }

  /** Waits `ms`, or less when a stop arrives meanwhile. */
  async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}
