/** Positioned YAML nodes (positionedYaml.ts) back to plain JSON values, for YAML files that hold data rather than rules. */
import type { YamlNode } from '../../detectors/sigma/positionedYaml.js';

/** The plain JSON value of a node; maps become objects that keep a "__proto__" key as data. */
export function plainYamlValue(node: YamlNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(plainYamlValue);
  return Object.fromEntries(node.entries.map((e) => [e.key, plainYamlValue(e.value)]));
}
