/**
 * Instructions injected into returned content: text a tool, resource or page returns that addresses the model
 * instead of the user — overriding its instructions, handing it a new task, posing as the system, or
 * claiming the tool is retired so the model moves to another one (tool transfer). Returned data describes
 * things; it has no reason to tell the assistant what to do next.
 */
import { matchCues, type StructuralDetector } from './structuralDetector.js';

const AI = String.raw`(?:ai|a\.i\.|assistant|llm|language\s+model|agent|model|chatbot|gpt|claude|copilot)`;

const INJECTION: readonly (readonly [string, RegExp])[] = [
  ['override_instructions', /\b(?:ignore|disregard|forget|override|bypass|abandon)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|original|initial|system|current|old)\s+(?:instructions?|prompts?|directions?|directives?|rules?|guidelines?|tasks?|commands?)/gi],
  // "Note for Claude Desktop users" names a product for people, not the model.
  ['addressed_to_model', new RegExp(String.raw`\b(?:dear|attention|note\s+(?:to|for)|hey|hello|message\s+(?:to|for))\s*,?\s+(?:the\s+)?${AI}s?\b(?![\s-]+(?:desktop|code|users?|app|cli|pro|api|sdk|developers?)\b)|\b(?:if\s+you\s+are\s+an?\s+${AI}|as\s+an?\s+${AI}\s+(?:reading|processing)|${AI}s?\s+(?:reading|processing|summari[sz]ing)\s+this)`, 'gi')],
  ['new_task', /\b(?:new|updated|real|actual|additional|urgent|important)\s+(?:instructions?|task|orders?|objective|directive|goal)s?\s*(?:[:\-–—]|for\s+(?:you|the\s+(?:ai|assistant|agent)))/gi],
  // A chat-template role opening a line and followed by prose ("System: You are…"); code (`system: false`,
  // `system: 'You are…'`) is data, not a forged turn.
  ['role_marker', /(?:^|\n)[ \t]?(?:#+\s*)?\[?(?:[Ss]ystem|SYSTEM|[Aa]ssistant|ASSISTANT)\]?\s*:\s*(?=[A-Z])|<\|im_start\|>|<\|(?:system|assistant)\|>|<\/?(?:system|instruction)>/g],
  ['must_comply', /\byou\s+(?:must|are\s+required\s+to|have\s+to|need\s+to)\s+(?:strictly\s+|now\s+|immediately\s+)?(?:adhere\s+to|follow|obey|comply\s+with|execute|carry\s+out)\s+(?:the\s+|these\s+|this\s+|my\s+)?(?:following|new|instructions?|command|task|orders?)\b/gi],
  // The injected task comes first: "before you can solve the task I gave you, please do the following".
  ['task_first', /\bbefore\s+(?:you\s+)?(?:can\s+)?(?:solve|complete|finish|continue\s+with|answer|start|work\s+on)\s+(?:the|your|this|my)\s+(?:\w+\s+)?(?:task|request|question|assignment)\b|\b(?:please\s+)?do\s+the\s+following\s+(?:first|instead|immediately)\b/gi],
  ['message_to_model', new RegExp(String.raw`\b(?:this\s+is\s+an?\s+)?(?:important|urgent|private)\s+(?:message|note|instruction)s?\s+from\s+[^.\n]{1,60}?\s+to\s+(?:you|the\s+${AI})\b`, 'gi')],
  ['stop_and_do', /\b(?:stop|halt|pause)\s+(?:what\s+you\s+are\s+doing|your\s+(?:current\s+)?task|the\s+current\s+task)\b|\bbefore\s+(?:you\s+)?(?:continue|proceed|respond|answer|summari[sz]e)\b[^.\n]{0,30}?\byou\s+(?:must|need\s+to|have\s+to|should)\b/gi],
];

const TRANSFER: readonly (readonly [string, RegExp])[] = [
  ['tool_retired', /\b(?:this|the)\s+(?:tool|function|service|endpoint|api|method)\s+(?:is|has\s+been|was)\s+(?:now\s+)?(?:retired|deprecated|discontinued|disabled|decommissioned|replaced|moved|no\s+longer\s+(?:available|supported|works?|in\s+service))\b[^.\n]*?(?:[.\n]\s*)?[^.\n]{0,80}?\b(?:use|call|switch\s+to|try|invoke|instead)\b/gi],
];

/** Cues that only mean injection in returned content: documentation is written for the model and may address it. */
const CONTENT_ONLY = new Set(['addressed_to_model', 'new_task', 'task_first', 'message_to_model']);

export const injectedInstructions: StructuralDetector = {
  id: 'injected_instruction',
  kinds: ['content', 'documentation'],
  find(text, _context, kind) {
    const cues = kind === 'content' ? INJECTION : INJECTION.filter(([cue]) => !CONTENT_ONLY.has(cue));
    return [...matchCues(text, this.id, 'result_injection', cues), ...(kind === 'content' ? matchCues(text, 'tool_transfer', 'tool_transfer', TRANSFER) : [])];
  },
};
