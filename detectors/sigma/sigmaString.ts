/**
 * Sigma string values: literal text with `*` and `?` wildcards and `\` escapes, and `%name%` placeholders
 * when the `expand` modifier asks for them. Modifiers transform these before they are compiled to matchers.
 */

/** A wildcard inside a Sigma string: `*` (any run of characters) or `?` (exactly one). */
export interface Wildcard {
  wildcard: '*' | '?';
}

export const ANY_RUN: Wildcard = { wildcard: '*' };
export const ONE_CHAR: Wildcard = { wildcard: '?' };

/** Literal text and wildcards; adjacent literals are always merged. */
export type SigmaStringPart = string | Wildcard;

export interface SigmaString {
  parts: SigmaStringPart[];
  /** True once a value is raw bytes (one char per byte), e.g. after utf16le, so base64 encodes it as bytes. */
  binary: boolean;
}

/** Expansion bound: a value with several multi-valued placeholders multiplies. */
const MAX_EXPANSIONS = 1_000;

/** Looks up a placeholder's values; undefined when the compiler has none for that name. */
export type PlaceholderValues = (name: string) => readonly string[] | undefined;

function push(parts: SigmaStringPart[], part: SigmaStringPart): void {
  const last = parts[parts.length - 1];
  if (typeof part === 'string' && typeof last === 'string') parts[parts.length - 1] = last + part;
  else if (part !== '') parts.push(part);
}

/** Builds a Sigma string from parts, merging adjacent literals. */
export function sigmaStringOf(parts: readonly SigmaStringPart[], binary = false): SigmaString {
  const merged: SigmaStringPart[] = [];
  for (const part of parts) push(merged, part);
  return { parts: merged, binary };
}

type RawPart = SigmaStringPart | { placeholder: string };

function scan(raw: string, placeholders: boolean): RawPart[] {
  const parts: RawPart[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') parts.push(literal);
    literal = '';
  };
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    const next = raw[i + 1];
    if (ch === '\\' && (next === '*' || next === '?' || next === '\\' || (placeholders && next === '%'))) {
      literal += next;
      i++;
    } else if (ch === '*' || ch === '?') {
      flush();
      parts.push(ch === '*' ? ANY_RUN : ONE_CHAR);
    } else if (ch === '%' && placeholders) {
      const end = raw.indexOf('%', i + 1);
      if (end > i + 1) {
        flush();
        parts.push({ placeholder: raw.slice(i + 1, end) });
        i = end;
      } else {
        literal += ch;
      }
    } else {
      literal += ch;
    }
  }
  flush();
  return parts;
}

/**
 * Parses a rule value. Without `expand` this is one Sigma string; with it, each `%name%` is replaced by every
 * value the compiler's placeholder table holds for it (OR), so one value may become several.
 * Throws a plain Error naming the placeholder when the table has none.
 */
export function parseSigmaString(raw: string, placeholderValues?: PlaceholderValues): SigmaString[] {
  let results: SigmaStringPart[][] = [[]];
  for (const part of scan(raw, placeholderValues !== undefined)) {
    if (typeof part === 'string' || 'wildcard' in part) {
      for (const r of results) push(r, part);
      continue;
    }
    const values = placeholderValues?.(part.placeholder);
    if (!values || values.length === 0) throw new Error(`placeholder %${part.placeholder}% has no values in the compiler's placeholders option`);
    if (results.length * values.length > MAX_EXPANSIONS) throw new Error(`placeholder expansion yields more than ${MAX_EXPANSIONS} values`);
    const expanded: SigmaStringPart[][] = [];
    for (const r of results) {
      for (const value of values) {
        const copy = [...r];
        for (const p of scan(value, false)) push(copy, p as SigmaStringPart);
        expanded.push(copy);
      }
    }
    results = expanded;
  }
  return results.map((parts) => ({ parts, binary: false }));
}

/** Whether the value holds a wildcard. */
export function hasWildcards(s: SigmaString): boolean {
  return s.parts.some((p) => typeof p !== 'string');
}

/** The value as plain text; only valid when it holds no wildcard. */
export function plainText(s: SigmaString): string {
  return s.parts.join('');
}

/** Adds `*` at the start and/or end (contains, startswith, endswith), without doubling an existing one. */
export function withAnyRun(s: SigmaString, atStart: boolean, atEnd: boolean): SigmaString {
  const parts = [...s.parts];
  if (atStart && parts[0] !== ANY_RUN) parts.unshift(ANY_RUN);
  if (atEnd && parts[parts.length - 1] !== ANY_RUN) parts.push(ANY_RUN);
  return { parts, binary: s.binary };
}
