/** Which search identifiers a rule's conditions read, so tooling can skip or flag the rest. */
import type { ConditionNode } from './ruleModel.js';

/** The names of every search identifier the conditions refer to (directly or through `1 of` / `all of`). */
export function identifiersReadBy(conditions: readonly ConditionNode[]): Set<string> {
  const names = new Set<string>();
  const visit = (node: ConditionNode): void => {
    if (node.type === 'ref') names.add(node.name);
    else if (node.type === 'of') node.names.forEach((n) => names.add(n));
    else if (node.type === 'not') visit(node.operand);
    else node.operands.forEach(visit);
  };
  conditions.forEach(visit);
  return names;
}
