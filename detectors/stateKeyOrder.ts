/**
 * The order of state keys: SQLite's order of TEXT (BINARY collation: UTF-8 bytes, i.e. code points), so entries()
 * lists keys the same way whether they come from the file, the store's memory or a batch's pending writes (a
 * JavaScript `<` compares UTF-16 code units, which differs when a key holds a surrogate pair or a character from
 * U+E000 up).
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
  }
  return a.length - b.length;
}
