/**
 * Kibana's `threat` field for an exported rule. The technique ids come from the rule's tags exactly as alerts
 * get them (threatFromTags); Kibana also needs each technique's name and a tactic, which this table supplies
 * for the MITRE ATLAS and ATT&CK techniques MCP detections use (primary tactic, as listed by
 * atlas.mitre.org and attack.mitre.org). A technique missing from the table is reported, not guessed.
 */
import { threatFromTags } from '../alertBuilder.js';

export interface KibanaThreatReference {
  id: string;
  name: string;
  reference: string;
}

export interface KibanaThreat {
  framework: 'MITRE ATLAS' | 'MITRE ATT&CK';
  tactic: KibanaThreatReference;
  technique: (KibanaThreatReference & { subtechnique?: KibanaThreatReference[] })[];
}

const ATLAS_TACTICS: Record<string, string> = {
  'AML.TA0004': 'Initial Access',
  'AML.TA0005': 'Execution',
  'AML.TA0006': 'Persistence',
  'AML.TA0012': 'Privilege Escalation',
  'AML.TA0007': 'Defense Evasion',
  'AML.TA0013': 'Credential Access',
  'AML.TA0008': 'Discovery',
  'AML.TA0009': 'Collection',
  'AML.TA0014': 'Command and Control',
  'AML.TA0010': 'Exfiltration',
  'AML.TA0011': 'Impact',
};

const ATTACK_TACTICS: Record<string, string> = {
  TA0001: 'Initial Access',
  TA0002: 'Execution',
  TA0005: 'Defense Evasion',
  TA0006: 'Credential Access',
  TA0007: 'Discovery',
  TA0009: 'Collection',
  TA0010: 'Exfiltration',
  TA0011: 'Command and Control',
  TA0040: 'Impact',
};

/** technique id → [name, primary tactic id]. */
const TECHNIQUES: Record<string, readonly [string, string]> = {
  'AML.T0010': ['AI Supply Chain Compromise', 'AML.TA0004'],
  'AML.T0010.001': ['AI Software', 'AML.TA0004'],
  'AML.T0049': ['Exploit Public-Facing Application', 'AML.TA0004'],
  'AML.T0093': ['Prompt Infiltration via Public-Facing Application', 'AML.TA0004'],
  'AML.T0011': ['User Execution', 'AML.TA0005'],
  'AML.T0050': ['Command and Scripting Interpreter', 'AML.TA0005'],
  'AML.T0051': ['LLM Prompt Injection', 'AML.TA0005'],
  'AML.T0051.000': ['Direct', 'AML.TA0005'],
  'AML.T0051.001': ['Indirect', 'AML.TA0005'],
  'AML.T0051.002': ['Triggered', 'AML.TA0005'],
  'AML.T0053': ['AI Agent Tool Invocation', 'AML.TA0005'],
  'AML.T0061': ['LLM Prompt Self-Replication', 'AML.TA0006'],
  'AML.T0070': ['RAG Poisoning', 'AML.TA0006'],
  'AML.T0080': ['AI Agent Context Poisoning', 'AML.TA0006'],
  'AML.T0080.000': ['Memory', 'AML.TA0006'],
  'AML.T0080.001': ['Thread', 'AML.TA0006'],
  'AML.T0081': ['Modify AI Agent Configuration', 'AML.TA0006'],
  'AML.T0099': ['AI Agent Tool Data Poisoning', 'AML.TA0006'],
  'AML.T0054': ['LLM Jailbreak', 'AML.TA0012'],
  'AML.T0067': ['LLM Trusted Output Components Manipulation', 'AML.TA0007'],
  'AML.T0068': ['LLM Prompt Obfuscation', 'AML.TA0007'],
  'AML.T0073': ['Impersonation', 'AML.TA0007'],
  'AML.T0074': ['Masquerading', 'AML.TA0007'],
  'AML.T0094': ['Delay Execution of LLM Instructions', 'AML.TA0007'],
  'AML.T0055': ['Unsecured Credentials', 'AML.TA0013'],
  'AML.T0083': ['Credentials from AI Agent Configuration', 'AML.TA0013'],
  'AML.T0098': ['AI Agent Tool Credential Harvesting', 'AML.TA0013'],
  'AML.T0069': ['Discover LLM System Information', 'AML.TA0008'],
  'AML.T0075': ['Cloud Service Discovery', 'AML.TA0008'],
  'AML.T0084': ['Discover AI Agent Configuration', 'AML.TA0008'],
  'AML.T0084.001': ['Tool Definitions', 'AML.TA0008'],
  'AML.T0036': ['Data from Information Repositories', 'AML.TA0009'],
  'AML.T0037': ['Data from Local System', 'AML.TA0009'],
  'AML.T0085': ['Data from AI Services', 'AML.TA0009'],
  'AML.T0085.001': ['AI Agent Tools', 'AML.TA0009'],
  'AML.T0072': ['Reverse Shell', 'AML.TA0014'],
  'AML.T0025': ['Exfiltration via Cyber Means', 'AML.TA0010'],
  'AML.T0056': ['Extract LLM System Prompt', 'AML.TA0010'],
  'AML.T0057': ['LLM Data Leakage', 'AML.TA0010'],
  'AML.T0077': ['LLM Response Rendering', 'AML.TA0010'],
  'AML.T0086': ['Exfiltration via AI Agent Tool Invocation', 'AML.TA0010'],
  'AML.T0029': ['Denial of AI Service', 'AML.TA0011'],
  'AML.T0034': ['Cost Harvesting', 'AML.TA0011'],
  'AML.T0048': ['External Harms', 'AML.TA0011'],
  'AML.T0101': ['Data Destruction via AI Agent Tool Invocation', 'AML.TA0011'],
  T1190: ['Exploit Public-Facing Application', 'TA0001'],
  T1195: ['Supply Chain Compromise', 'TA0001'],
  'T1195.002': ['Compromise Software Supply Chain', 'TA0001'],
  T1566: ['Phishing', 'TA0001'],
  'T1566.002': ['Spearphishing Link', 'TA0001'],
  T1059: ['Command and Scripting Interpreter', 'TA0002'],
  'T1059.004': ['Unix Shell', 'TA0002'],
  T1204: ['User Execution', 'TA0002'],
  T1027: ['Obfuscated Files or Information', 'TA0005'],
  T1036: ['Masquerading', 'TA0005'],
  'T1036.005': ['Match Legitimate Name or Location', 'TA0005'],
  'T1036.002': ['Right-to-Left Override', 'TA0005'],
  T1564: ['Hide Artifacts', 'TA0005'],
  T1552: ['Unsecured Credentials', 'TA0006'],
  'T1552.001': ['Credentials In Files', 'TA0006'],
  'T1552.004': ['Private Keys', 'TA0006'],
  'T1552.005': ['Cloud Instance Metadata API', 'TA0006'],
  T1528: ['Steal Application Access Token', 'TA0006'],
  T1003: ['OS Credential Dumping', 'TA0006'],
  'T1003.008': ['/etc/passwd and /etc/shadow', 'TA0006'],
  T1083: ['File and Directory Discovery', 'TA0007'],
  T1046: ['Network Service Discovery', 'TA0007'],
  T1005: ['Data from Local System', 'TA0009'],
  T1213: ['Data from Information Repositories', 'TA0009'],
  T1056: ['Input Capture', 'TA0009'],
  'T1056.002': ['GUI Input Capture', 'TA0009'],
  T1041: ['Exfiltration Over C2 Channel', 'TA0010'],
  T1567: ['Exfiltration Over Web Service', 'TA0010'],
  T1090: ['Proxy', 'TA0011'],
  T1485: ['Data Destruction', 'TA0040'],
};

const isAtlas = (id: string): boolean => id.startsWith('AML.');

function referenceOf(id: string): string {
  if (isAtlas(id)) return `https://atlas.mitre.org/${id.includes('.TA') ? 'tactics' : 'techniques'}/${id}`;
  if (id.startsWith('TA')) return `https://attack.mitre.org/tactics/${id}/`;
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

const referenceFor = (id: string, name: string): KibanaThreatReference => ({ id, name, reference: referenceOf(id) });

/** The Kibana threat entries for a rule's tags (one per framework and tactic), and the technique ids it could not map. */
export function kibanaThreatOf(tags: readonly string[]): { threat: KibanaThreat[]; unmapped: string[] } {
  const ids = [...new Set((threatFromTags(tags)?.technique ?? []).map((t) => t.id))].filter((id) => /^(AML\.)?T[0-9]/.test(id));
  const unmapped: string[] = [];
  const byTactic = new Map<string, KibanaThreat>();
  for (const id of ids) {
    const entry = TECHNIQUES[id];
    if (!entry) {
      unmapped.push(id);
      continue;
    }
    const [name, tacticId] = entry;
    const framework = isAtlas(id) ? 'MITRE ATLAS' : 'MITRE ATT&CK';
    let threat = byTactic.get(tacticId);
    if (!threat) {
      const tacticName = (isAtlas(id) ? ATLAS_TACTICS : ATTACK_TACTICS)[tacticId] as string;
      threat = { framework, tactic: referenceFor(tacticId, tacticName), technique: [] };
      byTactic.set(tacticId, threat);
    }
    const parentId = /\.[0-9]{3}$/.test(id) ? id.slice(0, -4) : undefined;
    if (parentId === undefined) {
      if (!threat.technique.some((t) => t.id === id)) threat.technique.push(referenceFor(id, name));
      continue;
    }
    const parentName = TECHNIQUES[parentId]?.[0] ?? parentId;
    let parent = threat.technique.find((t) => t.id === parentId);
    if (!parent) {
      parent = referenceFor(parentId, parentName);
      threat.technique.push(parent);
    }
    parent.subtechnique = [...(parent.subtechnique ?? []), referenceFor(id, name)];
  }
  return { threat: [...byTactic.values()], unmapped };
}
