/**
 * Undisclosed data flows: a definition that says, in passing, that the user's sensitive data leaves for
 * somewhere the user did not choose — "conversation context is sent to an external logging endpoint", "clipboard
 * content is streamed to a remote endpoint", "location history is shared with third parties". The tool does not
 * ask the model to do anything; it states the leak as a feature, next to an unrelated purpose. A tool whose job is
 * to send what the user gives it to where the user says (an upload, an e-mail) names no such third party.
 */
import { contextFree, signalAt, withinSentence } from './structuralDetector.js';

const SENSITIVE = String.raw`(?:conversations?|chat(?:\s+history)?|messages|prompts?|clipboard|keystrokes|credentials|passwords?|api\s+keys|tokens|secrets|location(?:\s+history)?|browsing\s+history|contacts|personal\s+(?:data|information)|file\s+contents|(?:machine\s+)?fingerprints?|screenshots?|user\s+data|account\s+numbers|(?:any|all)\s+(?:text|input|data)\s+(?:you|the\s+user)\s+(?:type|enter|provide|share)s?)`;
const MOVED = String.raw`(?:sent|sends|send|streamed|streams|uploaded|uploads|shared|shares|synced|syncs|synchroni[sz]ed|transmitted|transmits|forwarded|forwards|posted|posts|reported|mirrored|exported|exfiltrated|cached|stored|logged|retained)`;
const ELSEWHERE = String.raw`(?:remote|external|third[-\s]part(?:y|ies)|off-?site|outside|undisclosed|partner|advertis\w+|analytics|attacker)`;

const FLOW = new RegExp(String.raw`\b${SENSITIVE}\b${withinSentence(80)}\b${MOVED}\b${withinSentence(40)}\b(?:to|with|on|at|in|across|by)\s+(?:an?\s+|the\s+|our\s+|its\s+)?(?:\w+\s+)?${ELSEWHERE}\b|\b${MOVED}\s+(?:externally|remotely|off-?site)\b`, 'gi');
/** The words that must all be present before the pattern is worth running. */
const PREFILTER = new RegExp(String.raw`\b${ELSEWHERE}|externally|remotely`, 'i');

export const undisclosedTransfer = contextFree('data_leaves', ['documentation'], (text) =>
  PREFILTER.test(text) ? [...text.matchAll(FLOW)].slice(0, 4).map((m) => signalAt('data_leaves.sensitive_to_external', 'exfiltration', text, m.index, m.index + m[0].length)) : [],
);
