/** The rules the out-of-pattern usage detectors raise: what each alert is called, how severe it is, and what it maps to. */
import type { AlertRuleInfo } from '../alertBuilder.js';

function usageRule(id: string, name: string, level: AlertRuleInfo['level'], description: string, tags: readonly string[]): AlertRuleInfo {
  return { id, name, description, version: '1', category: 'anomalous_tool_use', level, ruleset: 'tapwire', tags: ['atlas.aml.t0053', ...tags] };
}

const TOOL = 'tapwire.usage.tool';
const PRINCIPAL = 'tapwire.usage.principal';

export const USAGE_RULES = {
  firstUse: usageRule(`${TOOL}.first-use`, 'Tool used for the first time after learning', 'medium', 'A tool nobody called while the server\'s baseline was learned is now being called.', []),
  rateSpike: usageRule(`${TOOL}.rate-spike`, 'Tool call rate spike', 'medium', 'A tool is called far more often in one time bucket than its baseline has ever seen.', ['atlas.aml.t0034']),
  unseenKey: usageRule(`${TOOL}.unseen-argument-key`, 'Unseen argument key', 'low', 'A tool call uses an argument key the tool\'s baseline never saw.', []),
  unseenHost: usageRule(`${TOOL}.unseen-url-host`, 'Unseen URL host in arguments', 'medium', 'A tool call points at a URL host the tool\'s baseline never saw: a new destination for data or requests.', ['atlas.aml.t0086']),
  unseenPathRoot: usageRule(`${TOOL}.unseen-path-root`, 'Unseen filesystem root in arguments', 'medium', 'A tool call reaches a filesystem root the tool\'s baseline never saw.', ['attack.t1005']),
  longArgument: usageRule(`${TOOL}.long-argument`, 'Argument far longer than its baseline', 'medium', 'A string argument is many times longer than the longest the tool\'s baseline saw for that key: data being smuggled out in a call.', ['atlas.aml.t0086']),
  oversizedResult: usageRule(`${TOOL}.oversized-result`, 'Oversized tool result', 'high', 'A tool returned far more data than its baseline has ever returned: bulk collection on its way to the model.', ['atlas.aml.t0085.001']),
  errorRate: usageRule(`${TOOL}.error-rate`, 'Tool error rate spike', 'low', 'A tool fails far more often than its baseline: probing, fuzzing or a broken integration.', []),
  destructiveSequence: usageRule(`${TOOL}.destructive-sequence`, 'Unseen call sequence with a destructive tool', 'high', 'Within one session, a destructive tool is called in a sequence of calls the server\'s baseline never saw.', ['atlas.aml.t0101']),
  principalRateSpike: usageRule(`${PRINCIPAL}.rate-spike`, 'Call rate spike for a user or host', 'medium', 'A user or host calls a server far more often in one time bucket than its own baseline has seen.', ['atlas.aml.t0034']),
  offHours: usageRule(`${PRINCIPAL}.off-hours`, 'Server used at an unusual time of day', 'low', 'A user or host calls a server at an hour of the day its baseline never saw them use it.', []),
} as const satisfies Record<string, AlertRuleInfo>;
