/** A Lucene regular expression as a JavaScript one matching whole strings (each `\X` escape as a code point). */
export function luceneAsJs(expression: string): RegExp {
  return new RegExp(`^(?:${expression.replace(/\\(.)/gsu, (_, c: string) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`)})$`, 'su');
}
