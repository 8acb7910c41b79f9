/**
 * Instructions injected into returned content: text a tool, resource or page returns that addresses the model
 * instead of the user — overriding its instructions, handing it a new task, posing as the system, or
 * claiming the tool is retired so the model moves to another one (tool transfer). Returned data describes
 * things; it has no reason to tell the assistant what to do next.
 */
import { contextFree, matchCues, withinSentence, type Cue } from './structuralDetector.js';

const AI = String.raw`(?:ai|a\.i\.|assistant|llm|language\s+model|agent|model|chatbot|gpt|claude|copilot)`;

/** What an injected order tells the reader to send: the user's data in bulk, secrets, or money. */
const TAKEN = String.raw`(?:(?:the\s+)?contents?\s+of|all\s+(?:of\s+)?(?:the\s+|my\s+|your\s+|his\s+|her\s+)?(?:\w+\s+)?(?:files|e-?mails|messages|documents|contacts|data|passwords|transactions|notes|records)|(?:my|the\s+user'?s|your|their)\s+(?:\w+\s+)?(?:passwords?|credentials|api\s+keys?|security\s+codes?|2fa\s+codes?|files|e-?mails|messages|inbox|contacts|conversation|chat\s+history|personal\s+(?:data|information)|card\s+(?:number|details)|bank\s+details)|passwords?|credentials|secrets?|security\s+codes?|api\s+keys?|access\s+tokens?|\.env\b|(?:the\s+)?tokens?\s+(?:in|from)\s+(?:it|them|there|the\s+[.\w/-]+)|(?:\$|€|£)\s?\d[\d,.]*|\d[\d,.]*\s?(?:usd|eur|gbp|dollars|euros|btc|eth))`;

const INJECTION: readonly Cue[] = [
  ['override_instructions', /\b(?:ignore|disregard|forget|override|bypass|abandon)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|original|initial|system|current|old)\s+(?:instructions?|(?:\w*struct\w*|in\w{0,3}t\w*ions?)|prompts?|directions?|directives?|rules?|guidelines?|tasks?|commands?|orders?)/gi, /\b(?:ignore|disregard|forget|override|bypass|abandon)\b/i],
  // "Note for Claude Desktop users" names a product for people, not the model.
  ['addressed_to_model', new RegExp(String.raw`\b(?:dear|attention|note\s+(?:to|for)|hey|hello|message\s+(?:to|for))\s*,?\s+(?:the\s+)?${AI}s?\b(?![\s-]+(?:desktop|code|users?|app|cli|pro|api|sdk|developers?)\b)|<!--\s*(?:note\s+(?:to|for)\s+)?(?:the\s+|any\s+|all\s+)?(?:ai\s+)?(?:ai|assistant|llm|agent|chatbot|claude|gpt|copilot)s?\s*[:,]|\b(?:if\s+you\s+are\s+an?\s+${AI}|as\s+an?\s+${AI}\s+(?:reading|processing)|${AI}s?\s+(?:reading|processing|summari[sz]ing)\s+this)`, 'gi'), new RegExp(String.raw`\b${AI}`, 'i')],
  ['new_task', /\b(?:new|updated|real|actual|additional|urgent|important)\s+(?:instructions?|task|orders?|objective|directive|goal)s?\s*(?:[:\-–—]|for\s+(?:you|the\s+(?:ai|assistant|agent)))/gi, /\b(?:instructions?|task|orders?|objective|directive|goal)s?\b/i],
  // A chat-template role opening a line and followed by prose ("System: You are…"); code (`system: false`,
  // `system: 'You are…'`) is data, not a forged turn.
  ['role_marker', /(?:^|\n)[ \t]?(?:#+\s*)?\[?(?:[Ss]ystem|SYSTEM|[Aa]ssistant|ASSISTANT)\]?\s*:\s*(?=[A-Z])|<\|im_start\|>|<\|(?:system|assistant)\|>|<\/?(?:system|instruction)>|[(\[<]\s*(?:system|sys|admin|administrator|developer|operator)[_\s-]?(?:message|prompt|note|notice|instructions?|override|command)\s*[)\]>]/gi],
  ['must_comply', /\byou\s+(?:must|are\s+required\s+to|have\s+to|need\s+to)\s+(?:strictly\s+|now\s+|immediately\s+)?(?:adhere\s+to|follow|obey|comply\s+with|execute|carry\s+out)\s+(?:the\s+|these\s+|this\s+|my\s+)?(?:following|new|instructions?|command|task|orders?)\b/gi, /\byou\s+(?:must|are\s+required|have\s+to|need\s+to)\b/i],
  // The injected task comes first: "before you can solve the task I gave you, please do the following".
  ['task_first', /\bbefore\s+(?:you\s+)?(?:can\s+)?(?:solve|complete|finish|continue\s+with|answer|start|work\s+on)\s+(?:the|your|this|my)\s+(?:\w+\s+)?(?:task|request|question|assignment)\b|\b(?:please\s+)?do\s+the\s+following\s+(?:first|instead|immediately)\b/gi, /\bbefore\b|\bdo\s+the\s+following\b/i],
  ['message_to_model', new RegExp(String.raw`\b(?:this\s+is\s+an?\s+)?(?:important|urgent|private)\s+(?:message|note|instruction)s?\s+from\s+[^.\n]{1,60}?\s+to\s+(?:you|the\s+${AI})\b`, 'gi'), /\b(?:important|urgent|private)\s+(?:message|note|instruction)/i],
  // Data carried out: the reader is told to send the user's files, mail, secrets or money to an address.
  ['send_data_to', new RegExp(String.raw`\b(?:send|e-?mail|forward|transfer|wire|upload|post|share|leak|copy)\b[^.\n]{0,40}?\b(?:${TAKEN})${withinSentence(80)}\b(?:to|at|into)\s+(?:[\w.+-]+@[\w-]+\.\w|https?:\/\/|(?:the\s+|this\s+|my\s+|following\s+)?(?:account|iban|wallet|address|recipient|number|url|endpoint|server)\b|[A-Z]{2}\d{2}[A-Z\d]{8,})`, 'gi'), /\b(?:send|e-?mail|forward|transfer|wire|upload|post|share|leak|copy)\b/i],
  // The action is to be hidden afterwards: "…and then delete the sent email".
  ['cover_tracks', /\b(?:then|and|afterwards?|after\s+that|finally)\s*,?\s+(?:delete|remove|erase|clear|wipe)\s+(?:the\s+|this\s+|that\s+|your\s+|any\s+)?(?:sent|original|outgoing|forwarded)\s+(?:e-?mails?|messages?|mails?|records?|files?)\b|\b(?:delete|remove|erase)\s+(?:this|these|the)\s+(?:instructions?|message|note)\s+(?:afterwards|after\s+(?:reading|completing|you))/gi, /\b(?:delete|remove|erase|clear|wipe)\b/i],
  // An order about the reader's own answer: data has no business shaping the assistant's reply.
  ['response_directive', /\b(?:in|into|within|throughout|at\s+the\s+(?:end|start|beginning|top|bottom)\s+of)\s+your\s+(?:response|answer|output|summary|next\s+message)s?\b|\byour\s+(?:response|answer|output)s?\s+(?:should|must|needs?\s+to|has\s+to|shall)\b|\b(?:write|compose|format|phrase|give|start|begin|end|structure)\s+(?:your|the\s+(?:entire|whole))\s+(?:response|reply|answer)\b/gi, /\byour\b|\bthe\s+(?:entire|whole)\b/i],
  // Reshaping the reader's answer or work: "modify your answer to…", "merge the code below into your solution".
  // "Reply" is what people ask of each other in mail ("the invoice number in your reply"); only an order to reshape it counts.
  ['reshape_answer', /\b(?:modify|augment|enhance|enrich|amend|alter|adjust|render|rewrite|reformat|provide|write|give|deliver|format|present|scramble|jumble|rearrange|reverse|encode|translate|group|remove|replace|include|insert|embed|append|add|prepend|inject)\b[^.\n]{0,60}?\b(?:your|the\s+assistant'?s)\s+(?:answers?|responses?|output|elucidation|explanation)\b|\b(?:modify|augment|enhance|enrich|amend|alter|adjust|render|rewrite|reformat|provide|write|deliver|format|present|scramble|jumble|rearrange|reverse|encode)\s+your\s+repl(?:y|ies)\b|\b(?:integrate|incorporate|merge|blend|meld|embed|append|insert|inject|assimilate)\b[^.\n]{0,60}?\b(?:in|into|to|within)\s+your\s+(?:solution|implementation|codebase|algorithm|code|program|script)\b|\byour\s+(?:answer|reply|response)'s\b/gi, /\byour\b|\bassistant'?s\b/i],
  // A forged user turn or task switch inside data: "New user query: I am the user. The previous task has been completed."
  ['fake_user_turn', /(?:^|\n)\s*(?:new|next|updated|follow-?up)\s+(?:user\s+)?(?:query|request|message|prompt|instruction)\s*:|\bI\s+am\s+(?:the|your)\s+(?:user|owner|admin(?:istrator)?|developer|operator)\b|\b(?:the\s+)?(?:previous|prior|original|earlier|current)\s+task\s+(?:has\s+been|is|was)\s+(?:completed|done|finished|cancell?ed|over|obsolete)\b|\b(?:finish|complete|do|perform|handle)\s+(?:the|this|my)\s+(?:new|following|urgent|other)\s+task\s+first\b/gi, /\b(?:query|request|message|prompt|instruction|am|task)\b/i],
  // An order to call a named tool, inside data: "Please use the write_file tool to …", "… by using read_text_file tool".
  ['call_tool', /(?:^|[.!?:]\s+|\n\s*(?:\d+[.)]\s*|[-*]\s+)?)(?:[Pp]lease\s+|[Nn]ow\s+|[Tt]hen\s+|[Ff]irst\s*,?\s+)?(?:[Uu]se|[Cc]all|[Ii]nvoke|[Rr]un|[Ee]xecute)\s+(?:the\s+)?['"\x60]?[a-z][a-z\d]*_[a-z\d_]+['"\x60]?\s+(?:tool|function)\s+to\b|\bby\s+(?:using|calling|invoking)\s+(?:the\s+)?['"\x60]?[a-z][a-z\d]*_[a-z\d_]+['"\x60]?\s+(?:tool|function)\b/g, /_/],
  ['you_must_act', /\byou\s+(?:must|MUST|have\s+to|are\s+required\s+to|shall)\s+(?:now\s+|also\s+|immediately\s+|always\s+)?(?:add|call|invoke|send|forward|transfer|delete|execute|email|post|upload|include|append)\b[^.\n]{0,60}?\b(?:in|to|into)\s+(?:the\s+|your\s+)?(?:final\s+)?(?:plan|answer|response|reply|output|list|call|request|recipients?|address)\b/gi, /\byou\s+(?:must|have\s+to|are\s+required|shall)\b/i],
  ['stop_and_do', /\b(?:stop|halt|pause)\s+(?:what\s+you\s+are\s+doing|your\s+(?:current\s+)?task|the\s+current\s+task)\b|\bbefore\s+(?:you\s+)?(?:continue|proceed|respond|answer|summari[sz]e)\b[^.\n]{0,30}?\byou\s+(?:must|need\s+to|have\s+to|should)\b/gi, /\b(?:stop|halt|pause|before)\b/i],
];

const TRANSFER: readonly Cue[] = [
  ['tool_retired', /\b(?:this|the)\s+(?:tool|function|service|endpoint|api|method)\s+(?:is|has\s+been|was)\s+(?:now\s+)?(?:retired|deprecated|discontinued|disabled|decommissioned|replaced|moved|no\s+longer\s+(?:available|supported|works?|in\s+service))\b[^.\n]*?(?:[.\n]\s*)?[^.\n]{0,80}?\b(?:use|call|switch\s+to|try|invoke|instead)\b/gi, /\b(?:retired|deprecated|discontinued|disabled|decommissioned|replaced|moved|no\s+longer)\b/i],
];

/**
 * Cues that only mean injection in returned content: documentation is written for the model and may address it or
 * say where results go. A definition telling the model to finish a task-first errand ("before you can solve the
 * task I gave you") or carrying a message "to you" is injection in either place.
 */
const CONTENT_ONLY = new Set(['addressed_to_model', 'new_task', 'response_directive', 'send_data_to', 'cover_tracks', 'reshape_answer', 'fake_user_turn', 'call_tool', 'you_must_act']);

const DOCUMENTATION_INJECTION = INJECTION.filter(([cue]) => !CONTENT_ONLY.has(cue));

export const injectedInstructions = contextFree('injected_instruction', ['content', 'documentation'], (text, kind) =>
  kind === 'content' ? [...matchCues(text, 'injected_instruction', 'result_injection', INJECTION), ...matchCues(text, 'tool_transfer', 'tool_transfer', TRANSFER)] : matchCues(text, 'injected_instruction', 'result_injection', DOCUMENTATION_INJECTION),
);
