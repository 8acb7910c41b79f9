/**
 * What tools of the same kind claim about themselves, so preference manipulation is scored against peers:
 * if every search tool in the fleet calls itself "fast and reliable", that is how search tools talk. A tool's
 * kind is a word of its name (search_web and searchDocs are both "search" tools); its peers are the tools of
 * other servers sharing such a word, and the baseline is their mean claim weight.
 */
import { distinctiveWords } from './toolNameIndex.js';

interface Tally {
  /** Claim weight per server, so one server repeating itself counts once per tool. */
  total: number;
  count: number;
  byServer: Map<string, { total: number; count: number }>;
}

export class PeerClaims {
  private readonly byWord = new Map<string, Tally>();
  private readonly seen = new Set<string>();

  /** Records the claim weight of one tool's description (once per server and tool). */
  add(server: string, tool: string, weight: number): void {
    const key = `${server}\u0000${tool}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    for (const word of distinctiveWords(tool)) {
      const tally = this.byWord.get(word) ?? { total: 0, count: 0, byServer: new Map() };
      tally.total += weight;
      tally.count += 1;
      const own = tally.byServer.get(server) ?? { total: 0, count: 0 };
      own.total += weight;
      own.count += 1;
      tally.byServer.set(server, own);
      this.byWord.set(word, tally);
    }
  }

  /** The mean claim weight of other servers' tools of the same kind as `tool` (0 with no peers). */
  rateFor(server: string | undefined, tool: string | undefined): number {
    if (tool === undefined) return 0;
    let total = 0;
    let count = 0;
    for (const word of distinctiveWords(tool)) {
      const tally = this.byWord.get(word);
      if (tally === undefined) continue;
      const own = server === undefined ? undefined : tally.byServer.get(server);
      total += tally.total - (own?.total ?? 0);
      count += tally.count - (own?.count ?? 0);
    }
    return count === 0 ? 0 : total / count;
  }
}
