/**
 * What tools of the same kind claim about themselves, so preference manipulation is scored against peers:
 * if every search tool in the fleet calls itself "fast and reliable", that is how search tools talk. A tool's
 * kind is a word of its name (search_web and searchDocs are both "search" tools); its peers are the tools of
 * other servers sharing such a word under another name. Copies of the tool itself (the same name on other
 * servers: forks, or the attack listed by several servers) are not its peers, and the baseline is the median
 * peer's claim weight, not the mean: a few self-promoting tools must not raise the bar they are measured against.
 */
import { distinctiveWords } from './toolNameIndex.js';

interface Claim {
  server: string;
  tool: string;
  weight: number;
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

export class PeerClaims {
  private readonly byWord = new Map<string, Claim[]>();
  private readonly seen = new Set<string>();
  /** Baselines already computed, by server and tool; emptied when a claim is added. */
  private readonly rates = new Map<string, number>();

  /** Records the claim weight of one tool's description (once per server and tool). */
  add(server: string, tool: string, weight: number): void {
    const key = `${server}\u0000${tool}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.rates.clear();
    for (const word of distinctiveWords(tool)) {
      const claims = this.byWord.get(word) ?? [];
      claims.push({ server, tool, weight });
      this.byWord.set(word, claims);
    }
  }

  /** The median claim weight of the peers of `tool` (other servers' tools of its kind, other names), 0 with none. */
  rateFor(server: string | undefined, tool: string | undefined): number {
    if (tool === undefined) return 0;
    const key = `${server ?? ''}\u0000${tool}`;
    const known = this.rates.get(key);
    if (known !== undefined) return known;
    const weights: number[] = [];
    for (const word of distinctiveWords(tool)) {
      for (const claim of this.byWord.get(word) ?? []) if (claim.server !== server && claim.tool !== tool) weights.push(claim.weight);
    }
    const rate = weights.length === 0 ? 0 : median(weights.sort((a, b) => a - b));
    this.rates.set(key, rate);
    return rate;
  }
}
