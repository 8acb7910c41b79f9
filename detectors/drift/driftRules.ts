/** The rules the tool-drift detectors raise: what each alert is called, how severe it is, and what it maps to. */
import type { AlertRuleInfo } from '../alertBuilder.js';

const DRIFT_TAGS = ['atlas.aml.t0010.001', 'owasp-mcp.mcp03'] as const;

function driftRule(id: string, name: string, level: AlertRuleInfo['level'], description: string): AlertRuleInfo {
  return { id: `tapwire.tool-drift.${id}`, name, description, version: '1', category: 'tool_drift', level, ruleset: 'tapwire', tags: DRIFT_TAGS };
}

/** Every tool-drift rule, by what it detects. */
export const DRIFT_RULES = {
  toolAdded: driftRule('tool-added', 'New tool after the first listing', 'medium', 'A server lists a tool that was not in its pinned (first or approved) tool list; the model sees a capability nobody reviewed.'),
  toolChanged: driftRule('tool-changed', 'Tool definition changed (rug pull)', 'high', "A tool's definition (description, schema, annotations) differs from its pinned version; it alerts in every session until approved or rejected."),
  toolRemoved: driftRule('tool-removed', 'Pinned tool removed', 'low', 'A complete tool listing no longer contains a pinned tool.'),
  instructionsChanged: driftRule('instructions-changed', 'Server instructions changed', 'high', "The server's initialize instructions, which go into the model's context, differ from the pinned text."),
  descriptionChanged: driftRule('description-changed', 'Prompt or resource description changed', 'medium', "A prompt's or resource's description differs from its pinned text."),
  rejectedServed: driftRule('rejected-served', 'Rejected definition served again', 'high', 'A server presents a definition (tool, instructions, prompt or resource description) that a reviewer rejected with `tapwire approve --reject`; it alerts every time it is served.'),
  renameEvasion: driftRule('rename-evasion', 'Tool renamed with a similar description', 'high', 'A pinned tool disappeared and a new one with a similar description appeared: a changed tool presented under a new name to dodge its pin.'),
  listChangedStorm: driftRule('list-changed-storm', 'list_changed notification storm', 'medium', 'A server sent many notifications/*/list_changed in a short window: it keeps changing what the model is offered, or tries to wear down review.'),
  fleetMismatch: driftRule('fleet-mismatch', 'Same server, different tools across the fleet', 'high', 'One server identity presents different definitions of a tool to different hosts or clients at the same time: targeted tool poisoning.'),
} as const satisfies Record<string, AlertRuleInfo>;
