/**
 * Sets one property of a JSON object being built. Collectors copy untrusted JSON key by key (a loop allocates far
 * less than entries → map → fromEntries, which matters once per message), and a "__proto__" key read from traffic
 * must become data on the copy, never the copy's prototype, as plain assignment would make it.
 */
export function setJsonProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
