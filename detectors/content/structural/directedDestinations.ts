/**
 * URLs, e-mail addresses and file paths the model is told to send data to, fetch or read. A description may
 * well mention a URL (its docs) or a path (an example); what marks the attack is an order to move data to or
 * from one — "send the result to attacker@x.io", "read ~/.ssh/id_rsa", "POST the token to https://…". Paths
 * to secrets are a signal whenever the model is told to read them. Verbs are imperatives: "Reads /etc/hosts" says
 * what the tool does, "read /etc/hosts" tells the model.
 */
import { contextFree, signalAt, type StructuralSignal } from './structuralDetector.js';

const URL = String.raw`https?:\/\/[^\s"'<>\x60)]+`;
// Anchored at the start of a word and bounded, so a long run of word characters is not rescanned from every position.
const EMAIL = String.raw`(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}`;
const PATH = String.raw`(?:~\/|\/(?:etc|home|root|Users|var|tmp|proc)\/|[A-Za-z]:\\|\.\.?\/)[^\s"'<>\x60,;)]*|\.(?:env|ssh|aws|npmrc|netrc|git-credentials|bash_history|kube)\b[^\s"'<>\x60,;)]*|\bid_(?:rsa|ed25519|ecdsa)\b|\b(?:credentials|secrets?)\.(?:json|ya?ml|txt|env)\b`;
const SECRET_PATH = /~\/\.|\.ssh|id_(?:rsa|ed25519|ecdsa)|\.env\b|\.aws|\.npmrc|\.netrc|\.git-credentials|\.kube|\/etc\/(?:passwd|shadow)|credentials|secrets?\.|wallet|keychain|\.bash_history|mcp\.json|cursor|claude_desktop_config/i;

const SEND_VERB = String.raw`(?:send|forward|post|upload|transmit|submit|report|email|e-mail|mail|share|leak|copy|sync|exfiltrate|deliver|notify|cc|bcc)`;
const READ_VERB = String.raw`(?:read|open|fetch|load|cat|access|retrieve|obtain|get|download|visit|navigate\s+to|browse\s+to|go\s+to|include|attach)`;
const SENSITIVE_WORDS = /\b(?:secret|password|credential|token|api[_\s-]?key|private\s+key|ssh|conversation|chat\s+history|system\s+prompt|personal|session|cookie|env(?:ironment)?\s+variables?)/i;

const ANY_VERB = new RegExp(String.raw`\b(?:${SEND_VERB}|${READ_VERB}|put)\b`, 'gi');
/** Signals reported per text: enough to explain, bounded for a text made of addresses. */
const MAX_SIGNALS = 32;

/** How far a directive verb may stand from the destination it governs. */
const REACH = 80;

interface Destination {
  kind: 'url' | 'email' | 'path';
  start: number;
  end: number;
}

/** One left-to-right pass: an address or path inside a URL is part of the URL. */
const DESTINATION = new RegExp(String.raw`(${URL})|(${EMAIL})|(${PATH})`, 'g');

function destinations(text: string): Destination[] {
  return [...text.matchAll(DESTINATION)].map((m) => ({ kind: m[1] !== undefined ? 'url' : m[2] !== undefined ? 'email' : 'path', start: m.index, end: m.index + m[0].length }));
}

/** The directive governing a destination: a sending verb before it ("send … to X"), or a reading verb ("read X"). */
function directive(text: string, d: Destination): { cue: string; send: boolean; at: number } | undefined {
  const before = text.slice(Math.max(0, d.start - REACH), d.start);
  const offset = d.start - before.length;
  // Within the sentence only.
  const sentence = before.split(/[.!?\n]\s/).at(-1) ?? before;
  const base = offset + before.length - sentence.length;
  const send = [...sentence.matchAll(new RegExp(String.raw`\b${SEND_VERB}\b[^.\n]{0,${REACH}}?\b(?:to|at|into|via|onto|cc|bcc)\s*:?\s*$`, 'gi'))].at(-1);
  if (send) return { cue: 'send_to', send: true, at: base + send.index };
  const sendDirect = [...sentence.matchAll(new RegExp(String.raw`\b(?:${SEND_VERB}|(?:make\s+a\s+)?(?:post|put)\s+request)\s+(?:it\s+|them\s+|this\s+|a\s+(?:copy|request)\s+)?(?:to\s+)?$`, 'gi'))].at(-1);
  if (sendDirect) return { cue: 'send_to', send: true, at: base + sendDirect.index };
  const read = [...sentence.matchAll(new RegExp(String.raw`\b${READ_VERB}\s+(?:the\s+)?(?:contents?\s+(?:of|from)\s+|file\s+(?:at\s+)?|data\s+(?:from|at)\s+|from\s+)?$`, 'gi'))].at(-1);
  if (read) return { cue: d.kind === 'url' ? 'fetch' : 'read', send: false, at: base + read.index };
  return undefined;
}

/** Whether the order is addressed to the model: an imperative opening its sentence, or a modal ("you must", "always"). */
function addressedToModel(text: string, at: number): boolean {
  const sentenceStart = Math.max(text.lastIndexOf('. ', at) + 2, text.lastIndexOf('\n', at) + 1, 0);
  const lead = text.slice(sentenceStart, at).replace(/^[\s\-*#>:\d.)]+/, '');
  return lead === '' || /[,:]\s*$|\b(?:and|then|also|first|to)\s*$|\b(?:you|must|always|should|please|before|after|when(?:ever)?|make\s+sure|be\s+sure|remember|ensure|need\s+to|required?\s+to)\b/i.test(lead);
}

export const directedDestinations = contextFree('directed_destination', ['documentation'], (text) => {
  const out: StructuralSignal[] = [];
  // Verbs are rarer than addresses in long texts: only a destination with a verb within reach is examined.
  const verbs = [...text.matchAll(ANY_VERB)].map((m) => m.index);
  let v = 0;
  for (const d of destinations(text)) {
    while (v < verbs.length && verbs[v]! < d.start - REACH) v++;
    if (v >= verbs.length || verbs[v]! >= d.start) continue;
    if (out.length >= MAX_SIGNALS) break;
    const order = directive(text, d);
    if (!order || !addressedToModel(text, order.at)) continue;
    const secretPath = d.kind === 'path' && SECRET_PATH.test(text.slice(d.start, d.end));
    const around = text.slice(Math.max(0, order.at - REACH), d.end + REACH);
    // Reading an ordinary path or fetching a URL is what many tools document; only secrets make it a signal.
    if (!order.send && !secretPath && !SENSITIVE_WORDS.test(around)) continue;
    const attack = order.send || secretPath ? 'exfiltration' : 'poisoning';
    out.push(signalAt(`directed_destination.${order.cue}_${d.kind}`, attack, text, order.at, d.end));
  }
  return out;
});
