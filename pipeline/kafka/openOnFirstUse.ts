/** A resource (a connected producer, an admin client, created topics) made on first use and shared afterwards. */
export class OpenOnFirstUse<T> {
  private pending: Promise<T> | undefined;

  /** `open` runs on the first get(), and again after a failed attempt: a failure is not remembered. */
  constructor(private readonly open: () => Promise<T>) {}

  /** The resource, opening it if needed. */
  get(): Promise<T> {
    this.pending ??= this.open().catch((error: unknown) => {
      this.pending = undefined;
      throw error;
    });
    return this.pending;
  }

  /** Forgets the resource and returns it if it was opened (for closing). */
  take(): Promise<T> | undefined {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }
}
