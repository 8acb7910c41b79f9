/**
 * The console's one DOM helper. Every piece of text goes in through textContent (never innerHTML): tool
 * descriptions and results are attacker-controlled, and this way they can only ever be text.
 */
export type Child = Node | string | number | false | null | undefined | Child[];
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

function append(parent: Node, child: Child): void {
  if (child === false || child === null || child === undefined) return;
  if (Array.isArray(child)) for (const c of child) append(parent, c);
  else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
}

/** Creates an element: attributes (on* are listeners, booleans toggle), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an SVG element with attributes. */
export function svg(tag: string, attributes: Record<string, string | number> = {}, ...children: Node[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.appendChild(child);
  return element;
}

/** `text` with every occurrence of each needle wrapped in <mark>. */
export function highlighted(text: string, needles: readonly string[]): Child[] {
  const useful = needles.filter((n) => n.length >= 3 && text.includes(n)).sort((a, b) => b.length - a.length);
  if (useful.length === 0) return [text];
  const parts: Child[] = [];
  let at = 0;
  while (at < text.length) {
    let next: { index: number; needle: string } | undefined;
    for (const needle of useful) {
      const index = text.indexOf(needle, at);
      if (index >= 0 && (next === undefined || index < next.index)) next = { index, needle };
    }
    if (!next) break;
    parts.push(text.slice(at, next.index), h('mark', {}, next.needle));
    at = next.index + next.needle.length;
  }
  parts.push(text.slice(at));
  return parts;
}

/** The parts of a matched value worth looking for in other text: without the bounding ellipses, and its lines. */
export function needlesOf(value: string | undefined): string[] {
  if (!value) return [];
  const core = value.replace(/^…/, '').replace(/…$/, '');
  return [core, ...core.split('\n').map((line) => line.trim())].filter((n) => n.length >= 3);
}

/** 2026-12-03 14:30:22 in the viewer's time zone. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A severity badge. */
export function severityBadge(name: string): HTMLElement {
  return h('span', { class: `sev sev-${name}` }, name);
}

/** JSON for reading: strings as they are, everything else indented. */
export function readable(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2) ?? '';
}
