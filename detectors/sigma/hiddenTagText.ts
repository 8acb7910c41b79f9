/**
 * Unicode Tag characters (U+E0000–U+E007F) render as nothing but mirror ASCII (U+E0041 is a hidden "A"), so a
 * server can write instructions only the model reads. This decodes every run of them back to ASCII, so an
 * alert can show what was hidden. The three emoji subdivision flags (🏴 + "gbeng", "gbsct" or "gbwls" in Tag
 * letters + CANCEL TAG) are the one legitimate use and are skipped; any other tag sequence after a flag is not,
 * since it could smuggle short words.
 */

const TAG_FIRST = 0xe0000;
const TAG_LAST = 0xe007f;
const CANCEL_TAG = 0xe007f;
const BLACK_FLAG = 0x1f3f4;
/** Every Tag character is a surrogate pair whose high half is U+DB40: a cheap pre-check. */
export const TAG_HIGH_SURROGATE = '\udb40';
/** The tag sequences of the recommended subdivision flags: England, Scotland, Wales. */
const FLAG_TAGS = new Set(['gbeng', 'gbsct', 'gbwls'].map((code) => [...code].map((c) => String.fromCodePoint(TAG_FIRST + c.charCodeAt(0))).join('') + String.fromCodePoint(CANCEL_TAG)));

const isTag = (codePoint: number): boolean => codePoint >= TAG_FIRST && codePoint <= TAG_LAST;

/** One run of Tag characters as readable text: printable tags become ASCII, others their code point. */
function decodeRun(run: string): string {
  let text = '';
  for (const char of run) {
    const ascii = (char.codePointAt(0) as number) - TAG_FIRST;
    text += ascii >= 0x20 && ascii <= 0x7e ? String.fromCharCode(ascii) : `<U+${(ascii + TAG_FIRST).toString(16).toUpperCase()}>`;
  }
  return text;
}

/** One run of Tag characters in a text: its UTF-16 span and what it decodes to. */
export interface TagRun {
  start: number;
  end: number;
  decoded: string;
  /** A recommended subdivision flag's tags (legitimate, not hidden text). */
  flag: boolean;
}

/** Every run of Tag characters in `text`, with its place, in order. */
export function tagRunsOf(text: string): TagRun[] {
  if (!text.includes(TAG_HIGH_SURROGATE)) return [];
  const runs: TagRun[] = [];
  let run = '';
  let start = 0;
  let offset = 0;
  let previous = 0;
  let runFollows = 0;
  const close = (): void => {
    if (run !== '') runs.push({ start, end: start + run.length, decoded: decodeRun(run), flag: runFollows === BLACK_FLAG && FLAG_TAGS.has(run) });
    run = '';
  };
  for (const char of text) {
    const codePoint = char.codePointAt(0) as number;
    if (isTag(codePoint)) {
      if (run === '') {
        runFollows = previous;
        start = offset;
      }
      run += char;
      if (codePoint === CANCEL_TAG) close();
    } else {
      close();
    }
    previous = codePoint;
    offset += char.length;
  }
  close();
  return runs;
}

/** The decoded text of every run of Tag characters in `text`, except the subdivision flags. */
export function hiddenTagRuns(text: string): string[] {
  return tagRunsOf(text).flatMap((run) => (run.flag ? [] : [run.decoded]));
}
