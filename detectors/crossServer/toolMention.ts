/**
 * Finding where a text names a tool or a parameter, the way a model would read it as a reference. A
 * name that looks like an identifier (read_note, getForecast, fs.write) counts wherever it stands as a
 * word; a plain word (search, fetch) counts only when it is quoted, called (`search(`) or called a tool
 * (`the search tool`), so prose that merely uses the word is not a mention.
 */

const CUE = /\b(?:call|calling|invoke|use|using|run|execute|pass|send|submit|include|then|must|now|first|next|please|immediately|always)\b/gi;
/** How far before a mention an imperative cue still governs it. */
const CUE_REACH = 48;
const MAX_NAME_LENGTH = 128;
const BEFORE = '(?<![\\p{L}\\p{N}_-])';
const AFTER = '(?![\\p{L}\\p{N}_-])';
const OPEN_QUOTE = '[`\'"\u2018\u201c]';
const CLOSE_QUOTE = '[`\'"\u2019\u201d]';

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a name reads as an identifier rather than an English word. */
export function isIdentifierLike(name: string): boolean {
  return /[_\-.\d]/.test(name) || /[a-z][A-Z]/.test(name);
}

function positions(text: string, pattern: RegExp): number[] {
  return [...text.matchAll(pattern)].map((m) => m.index);
}

/** Compiled mention patterns by tool name: every listing checks the same few names against many texts. */
const mentionPatterns = new Map<string, RegExp>();
const MAX_CACHED_PATTERNS = 4096;

function mentionPattern(name: string): RegExp {
  let mention = mentionPatterns.get(name);
  if (mention === undefined) {
    const e = escaped(name);
    mention = isIdentifierLike(name)
      ? new RegExp(`${BEFORE}${e}${AFTER}`, 'giu')
      : new RegExp(`${OPEN_QUOTE}${e}${CLOSE_QUOTE}|${BEFORE}${e}(?:\\s*\\(|\\s+tool\\b)|\\btool\\s+${e}${AFTER}`, 'giu');
    if (mentionPatterns.size >= MAX_CACHED_PATTERNS) mentionPatterns.delete(mentionPatterns.keys().next().value!);
    mentionPatterns.set(name, mention);
  }
  return mention;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** ſ: the one character whose simple case folding is an ASCII letter but whose lower case is not (the Kelvin sign's is k). */
const LONG_S = /\u017f/g;
/** The last text lower-cased: callers check one text against several names in a row. */
let lastText: string | undefined;
let lastLower = '';

/**
 * Whether `text` may contain `name` under the `iu` flags every pattern here uses; never false when it does. Each
 * pattern's alternatives contain the name itself, so text without it has no match, and this check costs a string
 * search where a regex cost a run per name (and, for parameters and phrases, a compilation per call). For an
 * ASCII name the check is exact: the only characters that case-fold to ASCII are ASCII letters, ſ (to s) and the
 * Kelvin sign (to k), and the lower case of the text maps each of them to its folding once ſ is replaced; other names
 * go to the regex.
 */
function mayContain(text: string, name: string): boolean {
  if (!ASCII_ONLY.test(name)) return true;
  if (text !== lastText) {
    lastText = text;
    lastLower = text.toLowerCase().replace(LONG_S, 's');
  }
  return lastLower.includes(name.toLowerCase());
}

/** Where `text` names the tool `name` (start offsets). */
export function toolMentions(text: string, name: string): number[] {
  if (name === '' || name.length > MAX_NAME_LENGTH || !mayContain(text, name)) return [];
  // matchAll clones the pattern, so the shared global RegExp's lastIndex is never touched.
  return positions(text, mentionPattern(name));
}

/**
 * Where `text` names a parameter in prose: quoted, or as an identifier-like word. A name followed by a
 * colon is a key of data the content lists (`"name": "x"`), not an instruction about the parameter.
 */
export function parameterMentions(text: string, name: string): number[] {
  if (name.length < 3 || name.length > MAX_NAME_LENGTH || !mayContain(text, name)) return [];
  const e = escaped(name);
  const quoted = `${OPEN_QUOTE}${e}${CLOSE_QUOTE}`;
  const notAKey = '(?!\\s*[:=])';
  return positions(text, new RegExp(`(?:${isIdentifierLike(name) ? `${quoted}|${BEFORE}${e}${AFTER}` : quoted})${notAKey}`, 'giu'));
}

/** The imperative word nearest before `index` ("call", "use", "pass" …), if one is close enough. */
export function cueBefore(text: string, index: number): string | undefined {
  return [...text.slice(Math.max(0, index - CUE_REACH), index).matchAll(CUE)].at(-1)?.[0].toLowerCase();
}

/** Whether `value` appears in `text` as a whole phrase (case-insensitive). */
export function containsPhrase(text: string, value: string): boolean {
  return mayContain(text, value) && new RegExp(`${BEFORE}${escaped(value)}${AFTER}`, 'iu').test(text);
}

/** Up to `radius` characters either side of `index`, on one line. */
export function excerptAround(text: string, index: number, radius = 100): string {
  const start = Math.max(0, index - radius);
  const end = Math.min(text.length, index + radius);
  return `${start > 0 ? '…' : ''}${text.slice(start, end).replace(/\s+/g, ' ').trim()}${end < text.length ? '…' : ''}`;
}
