/**
 * Secrecy and urgency aimed at the model. A tool has no honest reason to ask the model to hide something
 * from the user ("do not mention this", "silently", "the user must not know"), and attack text leans on
 * alarms addressed to the model (<IMPORTANT>, "this is critical, do it immediately") to make it act before
 * thinking. Urgency words alone are everywhere in real descriptions, so urgency counts only as an order to
 * the model wrapped in an alarm, not as a word.
 */
import { contextFree, matchCues, type Cue } from './structuralDetector.js';

const USER = String.raw`(?:the\s+)?(?:user|human|customer|operator|requester|person)s?`;

const SECRECY: readonly Cue[] = [
  // About the action itself ("do not tell the user about this", "… that you read the file"), or the clause ends:
  // "do not tell the user their new password in chat" is a rule protecting the user, not a secret kept from them.
  ['hide_from_user', new RegExp(String.raw`\b(?:do\s+not|don'?t|never|must\s+not|should\s+not|shouldn'?t)\s+(?:tell|inform|notify|alert|warn|let)\s+${USER}\s*(?:know\s*)?(?:about|that|of|what|why|anything|any\s+of|[.,;:!)]|$)|\b(?:do\s+not|don'?t|never|must\s+not)\s+(?:mention|reveal|disclose|show|explain|say)\s+(?:this|it|that|these|anything|any\s+of\s+this)\s+to\s+${USER}`, 'gi'), /\b(?:not|never)\b|n'?t\b/i],
  ['without_telling', new RegExp(String.raw`\bwithout\s+(?:telling|informing|notifying|alerting|asking|mentioning\s+(?:it\s+)?to|letting)\s+${USER}`, 'gi'), /\bwithout\b/i],
  ['user_must_not_know', new RegExp(String.raw`\b${USER}\s+(?:must|should|shall|need)\s*(?:not|n'?t|never)\s+(?:know|see|notice|find\s+out|be\s+(?:told|informed|aware|notified))`, 'gi'), /\b(?:not|never)\b|n'?t\b/i],
  ['keep_secret', /\b(?:keep|treat)\s+(?:this|these|it|the\s+following)\s+(?:instructions?\s+|step\s+)?(?:secret|hidden|confidential|private|between\s+us)\b/gi, /\b(?:keep|treat)\b/i],
  ['silently', /\b(?:silently|secretly|covertly|quietly|invisibly)\s+(?:call|send|forward|read|upload|add|include|run|execute|copy|pass|perform|do)\b/gi, /\b(?:silently|secretly|covertly|quietly|invisibly)\b/i],
  ['not_mention_instruction', /\b(?:do\s+not|don'?t|never)\s+(?:mention|reveal|disclose|acknowledge|repeat|reference|discuss)\s+(?:this|these|the)\s+(?:(?:above|following|hidden|secret)\s+)?(?:instructions?|steps?|notes?|requirements?|message|rules?)\b/gi, /\b(?:not|never)\b|n'?t\b/i],
];

const URGENCY: readonly Cue[] = [
  // A tag-like alarm addressed to the model: <IMPORTANT>, [SYSTEM OVERRIDE], <!-- AI: … -->
  // Tags that mark output values (<critical>, <urgent>) are markup; these mark orders to the model.
  ['alarm_tag', /<\s*\/?\s*(?:important|system|instructions?|admin|override|secret|hidden)(?:\s[^>\n]{0,30})?\s*>|\[\s*(?:system|admin)\s+(?:override|instruction|message|note)\s*\]|\b(?:SYSTEM|ADMIN)\s+(?:OVERRIDE|INSTRUCTIONS?|NOTICE)\s*:/gi],
  ['act_immediately', /\b(?:you\s+must|must|immediately|urgently)\s+(?:immediately\s+|now\s+|right\s+away\s+)?(?:call|send|forward|read|upload|execute|run|transfer|email|post)\b[^.\n]{0,40}?\b(?:immediately|right\s+now|right\s+away|without\s+(?:delay|confirmation|asking|hesitation)|before\s+(?:anything|responding|answering|doing\s+anything))/gi, /\b(?:immediately|right\s+(?:now|away)|without|before)\b/i],
  ['failure_threat', /\b(?:otherwise|or\s+else|failure\s+to\s+do\s+so|if\s+you\s+(?:do\s+not|don'?t|fail\s+to))\b[^.\n]{0,40}?\b(?:the\s+system|data|application|everything)\s+will\s+(?:crash|fail|be\s+(?:lost|deleted|corrupted|destroyed))/gi, /\bwill\s+(?:crash|fail|be)\b/i],
];

export const secrecyUrgency = contextFree('secrecy_urgency', ['documentation', 'content'], (text) => [...matchCues(text, 'secrecy_urgency.secrecy', 'poisoning', SECRECY), ...matchCues(text, 'secrecy_urgency.urgency', 'poisoning', URGENCY)]);
