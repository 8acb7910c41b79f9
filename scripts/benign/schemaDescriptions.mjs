// Every `description` (and `title`) inside a JSON Schema, with the path that locates it. Servers hide real
// documentation in nested objects, array items, unions and $defs, so the walk follows all of them.
const CHILD_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const CHILD_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const CHILD_SINGLE = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'];
const MAX_DEPTH = 64;

/** Yields { path, property, key, text } for each description/title string; the schema root itself is path "". */
export function* schemaDescriptions(schema, path = '', property = null, depth = 0) {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || depth > MAX_DEPTH) return;
  for (const key of ['description', 'title']) {
    if (typeof schema[key] === 'string' && schema[key].trim() !== '') yield { path, property, key, text: schema[key] };
  }
  for (const map of CHILD_MAPS) {
    const children = schema[map];
    if (!children || typeof children !== 'object') continue;
    for (const name of Object.keys(children).sort()) {
      yield* schemaDescriptions(children[name], `${path}/${map}/${name}`, name, depth + 1);
    }
  }
  for (const list of CHILD_LISTS) {
    if (!Array.isArray(schema[list])) continue;
    for (let i = 0; i < schema[list].length; i++) {
      yield* schemaDescriptions(schema[list][i], `${path}/${list}/${i}`, property, depth + 1);
    }
  }
  for (const single of CHILD_SINGLE) {
    const child = schema[single];
    if (Array.isArray(child)) {
      for (let i = 0; i < child.length; i++) yield* schemaDescriptions(child[i], `${path}/${single}/${i}`, property, depth + 1);
    } else {
      yield* schemaDescriptions(child, `${path}/${single}`, property, depth + 1);
    }
  }
}
