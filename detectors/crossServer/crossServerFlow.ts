/**
 * How a call to one server relates to content another server returned earlier in the host session:
 * (a) the content told the model to make this call (it names the tool or its parameters, with an
 * imperative cue, or supplies the argument values), and (b) the call carries the content's data
 * (redacted secrets, copied passages, distinctive tokens, URLs). Flows are scored so that reading
 * private data and sending it to a sink — above all to the server that asked for it — weigh most.
 */
import { isSensitiveSink, readsPrivateData, type ToolHints } from '../toolTraits.js';
import type { CrossServerConfig } from './crossServerConfig.js';
import type { ContentItem } from './hostSessionMemory.js';
import type { ArgumentString } from './returnedContent.js';
import { callFeatures, sharedTaint, type CallFeatures } from './taintFeatures.js';
import { containsPhrase, cueBefore, excerptAround, isIdentifierLike, parameterMentions, toolMentions } from './toolMention.js';

/** The call being judged: its server, tool, hints and argument strings. */
export interface JudgedCall {
  serverId: string;
  tool: string;
  hints: ToolHints;
  arguments: ArgumentString[];
}

/** Content that names the called tool or its parameters. */
export interface InstructionFinding {
  item: ContentItem;
  score: number;
  toolNamed: boolean;
  parameters: string[];
  cue?: string;
  copied: { argument: string; value: string }[];
  excerpt: string;
}

/** Which evidence a flow rests on, strongest first. */
export type FlowStrength = 'secret' | 'passage' | 'tokens';

/** Content whose data the call carries. */
export interface FlowFinding {
  item: ContentItem;
  score: number;
  strength: FlowStrength;
  placeholders: string[];
  urls: string[];
  tokens: string[];
  sharedPassages: number;
  containment: number;
  /** Argument key paths that carry the evidence. */
  arguments: string[];
  privateSource: boolean;
  sensitiveSink: boolean;
  /** Content from the call's own server that earlier named the source's tool: it asked for the data it now receives. */
  instructedBy?: ContentItem;
}

const STRENGTH_SCORE: Record<FlowStrength, number> = { secret: 3, passage: 2, tokens: 1 };
const MIN_COPIED_VALUE = 3;
const MAX_COPIED_VALUE = 256;

/** The top-level key of an argument key path (`files[].path` → files). */
function topLevelKey(path: string): string {
  return path.split(/[.[]/)[0] ?? path;
}

/** The best instruction among `items` for the call, if any reaches the configured score. */
export function instructionFinding(call: JudgedCall, items: readonly ContentItem[], config: CrossServerConfig): InstructionFinding | undefined {
  const keys = [...new Set(call.arguments.map((a) => topLevelKey(a.path)))].filter((key) => isIdentifierLike(key) || key.length >= 4);
  let best: InstructionFinding | undefined;
  for (const item of items) {
    const toolAt = toolMentions(item.text, call.tool);
    const parameters = keys.filter((key) => parameterMentions(item.text, key).length > 0);
    if (toolAt.length === 0 && parameters.length === 0) continue;
    const anchor = toolAt[0] ?? parameterMentions(item.text, parameters[0]!)[0]!;
    const cue = [...toolAt, anchor].map((at) => cueBefore(item.text, at)).find((c) => c !== undefined);
    const copied = call.arguments.flatMap((a) => {
      const value = a.text.trim();
      return value.length >= MIN_COPIED_VALUE && value.length <= MAX_COPIED_VALUE && containsPhrase(item.text, value) ? [{ argument: a.path, value }] : [];
    });
    const score = 1 + (cue === undefined ? 0 : 1) + (copied.length > 0 ? 1 : 0);
    if (score < config.minInstructionScore || (best && best.score > score)) continue;
    best = { item, score, toolNamed: toolAt.length > 0, parameters, copied, excerpt: excerptAround(item.text, anchor), ...(cue === undefined ? {} : { cue }) };
  }
  return best;
}

/** Whether a content item came out of the user's own data. */
function isPrivateSource(item: ContentItem, hintsOf: (serverId: string, tool: string) => ToolHints): boolean {
  if (item.kind === 'resource' || item.kind === 'prompt') return true;
  if (item.kind === 'sampling' || item.origin === undefined) return false;
  return readsPrivateData(item.origin, hintsOf(item.serverId, item.origin));
}

/** The best flow among `sources` into the call, if any reaches the configured score. */
export function flowFinding(
  call: JudgedCall,
  sources: readonly ContentItem[],
  ownContent: readonly ContentItem[],
  hintsOf: (serverId: string, tool: string) => ToolHints,
  config: CrossServerConfig,
): FlowFinding | undefined {
  const features: [string, CallFeatures][] = call.arguments.map((a) => [a.path, callFeatures(a.text, config)]);
  const sensitiveSink = isSensitiveSink(call.tool, call.hints);
  let best: FlowFinding | undefined;
  for (const item of sources) {
    const placeholders = new Set<string>();
    const urls = new Set<string>();
    const tokens = new Set<string>();
    const carrying = new Set<string>();
    let shared = 0;
    let comparable = 0;
    for (const [path, sink] of features) {
      const taint = sharedTaint(item.taint, sink);
      taint.placeholders.forEach((p) => placeholders.add(p));
      taint.urls.forEach((u) => urls.add(u));
      taint.tokens.forEach((t) => tokens.add(t));
      shared += taint.sharedShingles;
      comparable += taint.comparableShingles;
      if (taint.placeholders.length + taint.urls.length + taint.tokens.length + taint.sharedShingles > 0) carrying.add(path);
    }
    const containment = comparable === 0 ? 0 : shared / comparable;
    const strength: FlowStrength | undefined =
      placeholders.size > 0 ? 'secret'
      : shared >= config.minSharedShingles && containment >= config.minPassageContainment ? 'passage'
      : tokens.size + urls.size >= config.minSharedTokens ? 'tokens'
      : undefined;
    if (strength === undefined) continue;
    const privateSource = isPrivateSource(item, hintsOf);
    const instructedBy = item.kind === 'tool_result' && item.origin !== undefined ? ownContent.find((own) => own.at <= item.at && toolMentions(own.text, item.origin!).length > 0) : undefined;
    const score = STRENGTH_SCORE[strength] + (privateSource ? 1 : 0) + (sensitiveSink ? 1 : 0) + (instructedBy ? 1 : 0);
    if (score < config.minFlowScore || (best && best.score > score)) continue;
    best = {
      item,
      score,
      strength,
      placeholders: [...placeholders],
      urls: [...urls],
      tokens: [...tokens],
      sharedPassages: shared,
      containment,
      arguments: [...carrying],
      privateSource,
      sensitiveSink,
      ...(instructedBy ? { instructedBy } : {}),
    };
  }
  return best;
}
