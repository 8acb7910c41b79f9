/**
 * A fleet-wide index of tool names, found by any spelling a description might use: the tool `send_email`
 * is named by "send_email", "sendEmail", "send-email", "SendEmail" and "send email". Names are keyed by
 * their words, lower-cased; one-word names ("search") are too ordinary to find in prose and are kept only
 * for quoted or "the search tool" mentions.
 */
import type { ForeignTool } from './structuralDetector.js';

/** The words of an identifier or phrase: split at separators and camelCase humps, lower-cased. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z\d]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
}

/** Name words that say nothing about what a tool does. */
const GENERIC = new Set(['get', 'set', 'list', 'the', 'a', 'of', 'to', 'by', 'for', 'and', 'mcp', 'tool', 'api', 'v1', 'v2']);

/** The words of a tool name that say what it does (search_web → search, web). */
export function distinctiveWords(name: string): string[] {
  return nameWords(name).filter((w) => w.length > 2 && !GENERIC.has(w));
}

const keyOf = (words: readonly string[]): string => words.join(' ');

/** Most words a tool name can have and still be looked up from a window of prose. */
export const MAX_NAME_WORDS = 5;

export class ToolNameIndex {
  private readonly byKey = new Map<string, ForeignTool[]>();
  private readonly firstWords = new Set<string>();

  /** Records that `server` offers `tool`. */
  add(server: string, tool: string): void {
    const words = nameWords(tool);
    if (words.length === 0 || words.length > MAX_NAME_WORDS) return;
    const key = keyOf(words);
    this.firstWords.add(words[0]!);
    const list = this.byKey.get(key) ?? [];
    if (!list.some((t) => t.server === server && t.name === tool)) list.push({ name: tool, server });
    this.byKey.set(key, list);
  }

  /** Whether some indexed name begins with `word` (lower case). */
  startsWith(word: string): boolean {
    return this.firstWords.has(word);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** A tool named by `words` that a server other than `server` offers (and `server` does not). */
  foreignTo(server: string | undefined, words: readonly string[]): ForeignTool | undefined {
    const owners = this.byKey.get(keyOf(words));
    if (owners === undefined || owners.some((t) => t.server === server)) return undefined;
    return owners[0];
  }
}
