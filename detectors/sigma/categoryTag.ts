/** Tapwire's rule category travels as a Sigma tag, `tapwire.category.<name>`, checked against the alert schema. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../pipeline/packagePaths.js';
import type { TapwireCategory } from './ruleModel.js';

export const CATEGORY_TAG_PREFIX = 'tapwire.category.';

interface AlertSchemaCategory {
  properties: { rule: { properties: { category: { enum: TapwireCategory[] } } } };
}

let categories: readonly TapwireCategory[] | undefined;

/** The rule.category enum of pipeline/schemas/alert.schema.json (the one list of categories). */
export function tapwireCategories(): readonly TapwireCategory[] {
  categories ??= (JSON.parse(readFileSync(join(packageRoot(), 'pipeline', 'schemas', 'alert.schema.json'), 'utf8')) as AlertSchemaCategory).properties.rule.properties.category.enum;
  return categories;
}

/** The categories named by `tapwire.category.*` tags, and those tags that name no known category. */
export function categoriesFromTags(tags: readonly string[]): { categories: TapwireCategory[]; unknown: string[] } {
  const known = tapwireCategories();
  const found: TapwireCategory[] = [];
  const unknown: string[] = [];
  for (const tag of tags) {
    if (!tag.startsWith(CATEGORY_TAG_PREFIX)) continue;
    const name = tag.slice(CATEGORY_TAG_PREFIX.length);
    if ((known as readonly string[]).includes(name)) found.push(name as TapwireCategory);
    else unknown.push(tag);
  }
  return { categories: found, unknown };
}
