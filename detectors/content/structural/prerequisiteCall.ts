/**
 * Prerequisite-call directives: a description that makes the model call some other tool before this one, or
 * before anything else. Legitimate servers do this for their own tools ("use list_projects first to get an
 * id"), so a prerequisite naming one of the server's own tools is not a signal when the context knows them;
 * the attack makes the model call a tool of another server, or itself first on every request.
 */
import { matchCues, type Cue, type SignalContext, type StructuralDetector, type StructuralSignal } from './structuralDetector.js';

const MODAL = String.raw`(?:you\s+)?(?:must|shall|should\s+always|always|need\s+to|have\s+to|are\s+required\s+to|is\s+required\s+to)`;
const CALL = String.raw`(?:call|invoke|run|execute|use|trigger)`;
/** A tool named by the directive; "call this (tool) first" is the tool's own usage note, not a prerequisite. */
const TOOL_REF = String.raw`(?!(?:this|it|that|these|the\s+tool|one)\b)[\x60'"]?([A-Za-z][\w.-]{2,63})[\x60'"]?`;

const CUES: readonly Cue[] = [
  // "Before using this tool, you must first call X"
  ['before_this_call', new RegExp(String.raw`\b(?:before|prior\s+to)\s+(?:using|calling|invoking|running|executing)\s+(?:this|any\s+other|any|other)\s+(?:tool|function)s?\b[^.\n]{0,60}?\b${MODAL}\s+(?:first\s+)?${CALL}\s+${TOOL_REF}`, 'gi'), /\b(?:before|prior)\b/i],
  // "You must call X first" / "always call X before …"
  ['call_first', new RegExp(String.raw`\b${MODAL}\s+(?:first\s+)?${CALL}\s+(?:the\s+)?${TOOL_REF}(?:\s+tool)?\s+(?:first|before\s+(?:using|calling|invoking|any|this|proceeding|answering|responding))`, 'gi'), /\b(?:first|before)\b/i],
  // "This tool must be called before any other tool"
  ['self_first', /\bthis\s+(?:tool|function)\s+(?:must|should|has\s+to|needs\s+to)\s+(?:always\s+)?be\s+(?:called|invoked|used|run)\s+(?:first\s+)?(?:before\s+(?:any|all|every)\s+(?:other\s+)?(?:tool|function|action|request)s?)/gi, /\bbefore\b/i],
  // "requires a prior call to X" / "a call to X is mandatory before"
  ['requires_prior_call', new RegExp(String.raw`\b(?:requires?|mandatory|necessary)\s+(?:a\s+)?(?:prior|previous|preceding|initial)\s+(?:call|invocation)\s+(?:to|of)\s+${TOOL_REF}`, 'gi'), /\b(?:prior|previous|preceding|initial)\b/i],
];

/** The tool name a cue captured, if it is one of the server's own tools (a legitimate prerequisite). */
function namesOwnTool(signal: StructuralSignal, text: string, context: SignalContext): boolean {
  const own = context.ownTools;
  if (own === undefined || own.length === 0) return false;
  const span = text.slice(signal.start, signal.end).toLowerCase();
  return own.some((name) => name.toLowerCase() !== (context.toolName ?? '').toLowerCase() && span.includes(name.toLowerCase()));
}

/** Reads every prerequisite directive; the server's own tools (known from the context) are judged out. */
export const prerequisiteCall: StructuralDetector<StructuralSignal[]> = {
  id: 'prerequisite_call',
  kinds: ['documentation'],
  read: (text) => matchCues(text, 'prerequisite_call', 'prerequisite_call', CUES),
  judge: (found, text, context) => (found.length === 0 ? found : found.filter((s) => !namesOwnTool(s, text, context))),
};
