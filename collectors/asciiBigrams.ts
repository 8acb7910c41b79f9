/**
 * Many short literals looked up in one text at the price of one pass over it. The redactor looks for ~50 families'
 * needed literals in every scanned string, and each search walks the whole string: on a 1 KiB payload that was
 * about half of its redaction time. Instead, one pass marks which pairs of adjacent ASCII characters the text holds,
 * and only the literals whose first two characters are among them are searched for.
 */

const ASCII = 128;

/** The first two characters of each literal, as indexes of the marks: a text holding a literal holds its lead. */
export function literalLeads(literals: readonly string[]): number[] {
  return literals.map((literal) => {
    const first = literal.charCodeAt(0);
    const second = literal.charCodeAt(1);
    // NaN (a literal too short) fails this too.
    if (!(first < ASCII && second < ASCII)) throw new Error(`a lead needs two ASCII characters: ${JSON.stringify(literal)}`);
    return first * ASCII + second;
  });
}

/** The ASCII character pairs of the text marked last. */
export class AsciiBigrams {
  readonly #marks = new Uint32Array(ASCII * ASCII);
  #generation = 0;
  #text: string | undefined;

  /** Marks every adjacent pair of ASCII characters of `text`, forgetting the previous text's. */
  mark(text: string): void {
    if (text === this.#text) return;
    this.#text = text;
    if (++this.#generation === 0xffffffff) {
      this.#marks.fill(0);
      this.#generation = 1;
    }
    const generation = this.#generation;
    const marks = this.#marks;
    let previous = text.charCodeAt(0);
    for (let i = 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (previous < ASCII && c < ASCII) marks[previous * ASCII + c] = generation;
      previous = c;
    }
  }

  /** Whether the marked text holds any of these leads (from literalLeads). */
  holdsAny(leads: readonly number[]): boolean {
    for (const lead of leads) if (this.#marks[lead] === this.#generation) return true;
    return false;
  }
}
