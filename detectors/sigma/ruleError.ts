/** The one error type of the Sigma engine: every rejection names the rule file and line it comes from. */

/** A rule (or part of one) the engine will not run, located as FILE:LINE. */
export class SigmaRuleError extends Error {
  /** Builds the error; the message reads `FILE:LINE: detail`. */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'SigmaRuleError';
  }
}
