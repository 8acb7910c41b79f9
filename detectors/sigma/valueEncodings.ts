/**
 * The Sigma transformation modifiers that rewrite a value before it is matched: windash, utf16le/utf16be/
 * utf16/wide, base64 and base64offset. Each returns the value(s) a field must contain.
 */
import { hasWildcards, plainText, sigmaStringOf, type SigmaString, type SigmaStringPart } from './sigmaString.js';

/** Windows accepts these interchangeably in front of a command-line flag. */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
const MAX_WINDASH_POSITIONS = 4;
const WORD = /[A-Za-z0-9_]/;

/**
 * Every permutation of the dash characters at flag positions: a dash with no word character before it and a
 * word character after it (pySigma's `\B[-/]\b`), so `a-b` stays as it is and ` -enc` varies.
 */
export function windashVariants(value: SigmaString): SigmaString[] {
  const positions: { part: number; index: number }[] = [];
  value.parts.forEach((part, p) => {
    if (typeof part !== 'string') return;
    for (let i = 0; i < part.length; i++) {
      if (!DASHES.includes(part[i] as string)) continue;
      const before = i > 0 ? part[i - 1] : undefined;
      const after = part[i + 1];
      if ((before === undefined || !WORD.test(before)) && after !== undefined && WORD.test(after)) positions.push({ part: p, index: i });
    }
  });
  if (positions.length > MAX_WINDASH_POSITIONS) {
    throw new Error(`windash: ${positions.length} flag dashes would make ${DASHES.length ** positions.length} values (at most ${MAX_WINDASH_POSITIONS} dashes)`);
  }
  let variants: SigmaStringPart[][] = [value.parts];
  for (const { part, index } of positions) {
    variants = variants.flatMap((parts) =>
      DASHES.map((dash) => parts.map((p, i) => (i === part && typeof p === 'string' ? p.slice(0, index) + dash + p.slice(index + 1) : p))),
    );
  }
  return variants.map((parts) => sigmaStringOf(parts, value.binary));
}

/** UTF-16 encodings, as byte strings (one char per byte); `utf16` prepends the little-endian byte order mark. */
export function utf16Encode(value: SigmaString, variant: 'utf16le' | 'utf16be' | 'utf16'): SigmaString {
  const encode = (text: string): string => {
    const bytes = Buffer.from(text, 'utf16le');
    if (variant === 'utf16be') bytes.swap16();
    return bytes.toString('latin1');
  };
  const parts: SigmaStringPart[] = value.parts.map((p) => (typeof p === 'string' ? encode(p) : p));
  if (variant === 'utf16') parts.unshift('\xff\xfe');
  return sigmaStringOf(parts, true);
}

function bytesOf(value: SigmaString, modifier: string): Buffer {
  if (hasWildcards(value)) throw new Error(`${modifier} cannot encode a value with wildcards (apply contains/startswith/endswith after ${modifier})`);
  return Buffer.from(plainText(value), value.binary ? 'latin1' : 'utf8');
}

/** The value's base64 encoding. */
export function base64Encode(value: SigmaString): SigmaString {
  return sigmaStringOf([bytesOf(value, 'base64').toString('base64')]);
}

const OFFSET_START = [0, 2, 3];
const OFFSET_END_TRIM = [0, 3, 2];

/**
 * The three base64 forms a value takes when it sits at byte offset 0, 1 or 2 of a longer encoded text, with
 * the characters that depend on neighbouring bytes cut off; matched with contains.
 */
export function base64OffsetVariants(value: SigmaString): SigmaString[] {
  const bytes = bytesOf(value, 'base64offset');
  return [0, 1, 2].map((shift) => {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const trim = OFFSET_END_TRIM[(bytes.length + shift) % 3] as number;
    return sigmaStringOf([encoded.slice(OFFSET_START[shift], encoded.length - trim)]);
  });
}
