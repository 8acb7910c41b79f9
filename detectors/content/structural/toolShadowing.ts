/**
 * Shadowing across the fleet: a description that names a tool another server offers, with an order about
 * it ("when using send_email, always BCC …", "call sendEmail with …"). detectors/crossServer catches this
 * within one host session, where both listings are in view; this detector asks a fleet-wide index of tool
 * names (context.foreignTool), so a poisoned server is caught when it aims at a tool of a server the same
 * host has not listed yet, or that only other hosts run.
 */
import { cueBefore } from '../../crossServer/toolMention.js';
import { signalAt, type StructuralDetector, type StructuralSignal } from './structuralDetector.js';
import { distinctiveWords, MAX_NAME_WORDS, nameWords } from './toolNameIndex.js';

/** A run of name-like tokens: identifiers (send_email, sendEmail, fs.write) or words. */
const TOKEN = /[A-Za-z][\w.-]*[A-Za-z\d]|[A-Za-z]/g;
/** Longer tokens are data (hashes, base64), not tool names; splitting them into words would cost for nothing. */
const MAX_TOKEN = 128;
const IDENTIFIER = /[_.\-\d]|[a-z][A-Z]/;
const CALLED = /^\s*(?:tool|function)\b|^\(/;
const PARAMETER_AFTER = /^[\x60'"]?\s*(?:argument|parameter|param|field|option|property|key)s?\b/i;
/** Also a cue: a conditional about using the tool ("when using X", "whenever X is called"). */
const CONDITION = /\b(?:when(?:ever)?|each\s+time|every\s+time|before|after)\b[^.\n]{0,40}$/i;

/**
 * Whether the named tool shares what it does with one of the server's own tools (mark_task_done beside its
 * own get_next_task): the text is then about its own workflow, under a name another copy of the server
 * also uses. Shadowing aims at unrelated tools (an adder naming send_email).
 */
function sameFamily(tool: string, ownTools: readonly string[] | undefined): boolean {
  if (ownTools === undefined) return false;
  const words = new Set(distinctiveWords(tool));
  return ownTools.some((own) => distinctiveWords(own).some((w) => words.has(w)));
}

/** A name-like token of the text, with the word a tool name starting at it would begin with. */
interface Token {
  text: string;
  start: number;
  end: number;
  first: string;
}

function tokensOf(text: string): Token[] {
  return [...text.matchAll(TOKEN)].filter((m) => m[0].length <= MAX_TOKEN).map((m) => ({ text: m[0], start: m.index, end: m.index + m[0].length, first: (IDENTIFIER.test(m[0]) ? nameWords(m[0])[0] : m[0].toLowerCase()) ?? '' }));
}

/**
 * Judging looks the text's name-like tokens up in the fleet's index of tool names. The tokens are found at the first
 * judging with an index and kept in the reading (the learned tier, which has no index, never needs them).
 */
export const toolShadowing: StructuralDetector<{ tokens?: Token[] }> = {
  id: 'shadowing',
  kinds: ['documentation'],
  read: () => ({}),
  judge(reading, text, context) {
    const lookup = context.foreignTool;
    if (lookup === undefined) return [];
    const tokens = (reading.tokens ??= tokensOf(text));
    const out: StructuralSignal[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < tokens.length; i++) {
      if (context.nameStartsWith && !context.nameStartsWith(tokens[i]!.first)) continue;
      for (let n = 1; n <= MAX_NAME_WORDS && i + n <= tokens.length; n++) {
        const span = tokens.slice(i, i + n);
        const start = span[0]!.start;
        const end = span.at(-1)!.end;
        // Spaced names ("send email") must be plain words separated by single spaces.
        if (n > 1 && !/^[A-Za-z]+(?: [A-Za-z]+)*$/.test(text.slice(start, end))) break;
        const words = n === 1 ? nameWords(span[0]!.text) : span.map((t) => t.text.toLowerCase());
        // A name written as prose words ("search", "web search") counts only quoted or called a tool; an
        // identifier (send_email, sendEmail) counts as it stands, unless it is a parameter's name.
        const after = text.slice(end, end + 12);
        if (PARAMETER_AFTER.test(after)) continue;
        const identifier = n === 1 && IDENTIFIER.test(span[0]!.text);
        // One-word names (read, query, update) are enum values and verbs in every description: too ordinary.
        if (words.length < 2) continue;
        const quoted = /^[\x60'"]/.test(after) && /[\x60'"]$/.test(text.slice(Math.max(0, start - 1), start));
        if (!identifier && !quoted && !CALLED.test(after)) continue;
        const tool = lookup(words.join(' '));
        if (tool === undefined || seen.has(tool.name) || sameFamily(tool.name, context.ownTools)) continue;
        const before = text.slice(Math.max(0, start - 60), start);
        const near = cueBefore(text, start);
        // "using" orders only as "by using X" or "using the X tool"; "images using text_to_image" describes.
        const ordering = near !== undefined && (near !== 'using' || /\bby\s+using\b/i.test(before) || CALLED.test(after)) && near !== 'always';
        const cue = (ordering ? near : undefined) ?? (CONDITION.test(before) ? 'when' : undefined);
        if (cue === undefined) continue;
        seen.add(tool.name);
        out.push({ ...signalAt('shadowing.names_foreign_tool', 'shadowing', text, Math.max(0, start - 40), end), evidence: `names ${tool.server}'s tool ${tool.name} after "${cue}": ${signalAt('', '', text, Math.max(0, start - 40), Math.min(text.length, end + 40)).evidence}` });
      }
    }
    return out;
  },
};
