/**
 * Harmful capability: a definition that openly says the tool does something offensive — opens a reverse shell,
 * logs keystrokes, steals credentials, encrypts files for ransom, switches off security tools, persists, talks to
 * a command-and-control server, destroys data or moves it out through a covert channel. No hidden instruction is
 * needed: a model that calls such a tool carries out the attack. The vocabulary follows MITRE ATT&CK's tactics
 * (credential access, persistence, privilege escalation, defense evasion, command and control, exfiltration,
 * impact) in plain English.
 *
 * Security and admin tools use the same nouns for the opposite purpose ("scan for rootkits", "ransomware
 * detection", "delete a file at the given path"), so a capability counts only when the text does it, not when it
 * looks for it: a defensive verb before the cue in its sentence, or a defensive noun right after it, silences it;
 * and cues whose words are ordinary admin work (dump, extract, disable, wipe) count only with an offensive
 * qualifier — a victim, an attacker, stealth, "malicious", "without the user's knowledge".
 */
import { contextFree, signalAt, type StructuralSignal } from './structuralDetector.js';

/** Marks the purpose as hostile: aimed at a victim, for an attacker, or hidden. */
const HOSTILE = String.raw`(?:malicious(?:ly)?|covert(?:ly)?|stealth(?:y|ily)?|secretly|surreptitious(?:ly)?|undetect(?:ed|able)|silently|unauthori[sz]ed|victim'?s?|target's|target\s+(?:systems?|hosts?|machines?|networks?|devices?)|attacker'?s?|stolen|without\s+(?:the\s+)?(?:user'?s?\s+|owner'?s?\s+|their\s+)?(?:knowledge|consent|permission|noticing))`;
const HOSTILE_RE = new RegExp(String.raw`\b${HOSTILE}\b`, 'i');

const CREDENTIALS = String.raw`(?:passwords?|password\s+(?:hash(?:es)?|vaults?|managers?)|(?:ntlm\s+|password\s+)?hash(?:es)?|credentials?|creds|login\s+(?:details|data)|(?:browser\s+|session\s+)?cookies?|session\s+tokens?|auth(?:entication)?\s+tokens?|access\s+tokens?|api\s+keys?|private\s+keys?|ssh\s+keys?|seed\s+phrases?|crypto(?:currency)?\s+wallets?|keychains?|lsass|kerberos\s+(?:service\s+)?tickets?|(?:oauth|refresh|bearer)\s+tokens?|2fa\s+codes?|otp\s+codes?|secrets?(?:\s+keys?)?|process\s+memory)`;
const SECURITY_TOOLS = String.raw`(?:anti-?virus|anti-?malware|av|edr|xdr|windows\s+defender|defender|security\s+(?:software|tools?|products?|monitoring|agents?|controls?|features?|updates?)|endpoint\s+(?:protection|security)|amsi|sysmon|selinux|apparmor|gatekeeper|smartscreen|firewall|audit(?:d|ing)?|event\s+logging|tamper\s+protection)`;

/** Cue (an ATT&CK tactic), whether it needs a hostile qualifier in its sentence, pattern, guard (stems every match contains: a cheap test first). */
const CUES: readonly (readonly [string, boolean, RegExp, RegExp])[] = [
  ['exfiltration', false, /\bexfiltrat(?:e|es|ed|ing|ion)\b|\b(?:upload|send|transfer|post|leak|ship)\w*\s+(?:the\s+)?stolen\b/gi, /exfiltrat|stolen/i],
  ['exfiltration', false, /\bcovert\s+(?:channels?|timing|tunnel\w*|transfer|communication)\b|\b(?:hid(?:e|es|ing)|smuggl\w+|tunnel\w*|encod\w+)\s+(?:\w+\s+){0,2}?data\s+(?:in|into|inside|through|via|over)\s+(?:\w+\s+){0,2}?(?:dns|icmp|ntp|packets?|headers?|timestamps?|subdomains?|queries)\b/gi, /covert|hid|smuggl|tunnel|encod/i],
  ['credential_theft', false, new RegExp(String.raw`\b(?:steal\w*|harvest\w*|sniff\w*|siphon\w*|exfiltrat\w*|grab\w*|phish\w*|dump\w*|extract\w*|decrypt\w*|captur\w*|intercept\w*|crack\w*|brute[-\s]?forc\w*|forg(?:e|es|ed|ing))\s+(?:[\w()'-]+\s+){0,3}?${CREDENTIALS}\b|\b(?:credential|password|cookie|token)\s+(?:theft|stealer|stealing|harvest\w*|dump(?:er|ing)|stuffing|spray\w*)\b|\bpassword\s+spray\w*|\bfor\s+(?:offline\s+)?cracking\b|\b(?:info-?stealer|mimikatz|kerberoast\w*|pass[-\s]the[-\s](?:hash|ticket)|(?:golden|silver)\s+tickets?|dcsync|ntlm\s+(?:hash|relay))\b|\bbrute[-\s]?forc\w*\s+(?:\w+\s+){0,2}?(?:authentication|logins?|accounts?|passwords?|directories|credentials?)\b|\bharvest\w*\s+(?:\w+\s+){0,2}?(?:e-?mail\s+addresses|emails|contacts|phone\s+numbers|personal\s+data|pii)\b|\b(?:account|session)\s+takeover|\bfor\s+takeover\b`, 'gi'), /steal|harvest|sniff|siphon|exfiltrat|grab|phish|dump|extract|decrypt|captur|intercept|crack|brute|forg|theft|stuffing|spray|mimikatz|kerberoast|pass[-\s]the|ticket|dcsync|ntlm|takeover/i],
  ['credential_theft', true, new RegExp(String.raw`\b(?:collect\w*|copy\w*|read\w*|locat\w*|scrap\w*|access\w*|retriev\w*|export\w*)\s+(?:\w+\s+){0,3}?${CREDENTIALS}\b`, 'gi'), /collect|cop(?:y|ie)|read|locat|scrap|access|retriev|export/i],
  ['keylogging', false, /\bkey\s?(?:loggers?|logging|stroke\s+(?:logg\w+|captur\w+|record\w+))\b|\b(?:log|record|captur|monitor)\w*\s+(?:all\s+|every\s+|the\s+user'?s?\s+)?keystrokes?\b|\b(?:spyware|stalkerware)\b/gi, /key\s?log|key\s?stroke|spyware|stalkerware/i],
  ['surveillance', true, /\b(?:record|captur|activat|access|turn\w*\s+on|stream|take)\w*\s+(?:\w+\s+){0,3}?(?:webcam|camera|microphone|mic|screen(?:shots?)?|audio|clipboard|location|browsing\s+history|messages)\b/gi, /record|captur|activat|access|turn|stream|take/i],
  ['remote_control', false, /\b(?:reverse|bind)\s+shells?\b|\bbackdoor(?:s|ed)?\b|\brootkits?\b|\bremote\s+access\s+trojans?\b|\bcommand[-\s](?:and|&)[-\s]control\b|\bc2\s+(?:servers?|channels?|beacons?|infrastructure|traffic|implants?)\b|\bbeacon\w*\s+(?:back\s+)?to\s+(?:the\s+|an?\s+)?(?:attacker|c2|remote\s+server|operator)\b|\b(?:implants?|web\s?shells?)\b/gi, /shell|backdoor|rootkit|trojan|command[-\s](?:and|&)|c2|beacon|implant/i],
  ['persistence', false, /\b(?:establish|maintain|achieve|gain)\w*\s+(?:\w+\s+){0,2}?persistence\b(?!\s+(?:of|on|for|in)\b)|\bpersistence\s+(?:mechanisms?|via|through|using)\b/gi, /persistence/i],
  ['persistence', true, /\b(?:launch\s?daemons?|launch\s?agents?|cron\s?(?:jobs?|tabs?)|scheduled\s+tasks?|startup\s+(?:items?|folder|scripts?)|run\s+keys?|autoruns?|systemd\s+(?:units?|services?)|services?|login\s+items?|bashrc|profile\s+scripts?|wmi\s+subscriptions?)\b/gi, /launch|cron|scheduled|startup|run\s+key|autorun|systemd|service|login\s+item|bashrc|profile|wmi/i],
  ['privilege_escalation', false, /\bprivilege\s+(?:escalation|elevation)\b|\bescalat\w*\s+(?:\w+\s+)?(?:to\s+)?(?:root|admin\w*|system|privileges?)\b|\b(?:container|sandbox|vm|jail|chroot)\s+(?:escape|breakout)\b|\b(?:escap|break)\w*\s+(?:out\s+)?(?:of\s+|from\s+)?(?:the\s+|a\s+)?(?:container|sandbox|jail|chroot|hypervisor|virtual\s+machines?|vms?)\b|\bbypass\w*\s+(?:the\s+)?uac\b|\bjailbreak\w*|\babus(?:e|ing)\s+(?:\w+\s+){0,2}?(?:privileges?|permissions?|acls?|tokens?|delegation|misconfigurations?)\b|\bimpersonat\w*\s+(?:\w+\s+)?(?:tokens?|privileged)\b|\b(?:gain|obtain|get)\w*\s+(?:\w+\s+)?root\s+(?:access|privileges|shell)\b|\bsetuid\s+(?:binar\w+|exploit)|\bsudo\s+(?:exploit|misconfiguration)\b/gi, /privilege|escalat|escap|breakout|break|bypass|jailbreak|abus|impersonat|root|setuid|sudo/i],
  ['defense_evasion', false, new RegExp(String.raw`\b(?:kill\w*|bypass\w*|evad\w*|blind\w*|tamper\w*\s+with|neutrali[sz]\w*|circumvent\w*|uninstall\w*)\s+(?:\w+\s+){0,3}?${SECURITY_TOOLS}\b|\bevad\w*\s+(?:\w+\s+){0,2}?(?:detection|analysis|forensics?|monitoring)\b|\b(?:clear|wip|delet|eras|tamper|purg|scrub)\w*\s+(?:\w+\s+){0,2}?(?:event\s+logs?|audit\s+(?:logs?|trails?)|security\s+logs?|bash\s+history|shell\s+history|command\s+history)\b[^.\n]{0,40}?\b(?:cover|hide|conceal|avoid|evade|remove\s+(?:traces|evidence))|\bcover\w*\s+(?:\w+\s+)?tracks\b|\btimestomp\w*|\btamper\w*\s+with\b|\bto\s+hide\s+(?:the\s+|its\s+|their\s+)?(?:activity|traces|evidence|presence|tracks)\b|\bbypass\w*\s+(?:[\w-]+\s+){0,3}?(?:authentication|authori[sz]ation|logins?|whitelisting|allowlisting|applocker|integrity\s+check\w*|tcc|protections?|(?:upload\s+)?restrictions|security\s+(?:controls?|hooks?|measures?)|edr|anti-?virus|logging|tracing|mfa|2fa|captcha|drm|content\s+filters?|safety\s+filters?|guardrails?)\b|\bencoded\s+(?:powershell|commands?|payloads?)\b|\bhid(?:e|es|ing)\s+(?:\w+\s+){0,2}?(?:data|files?|payloads?|messages?|process(?:es)?|activity|traces)\s+(?:in|inside|within|from)\b|\bsteganograph\w*|\b(?:anti-?forensics?|process\s+hollowing)\b`, 'gi'), /kill|bypass|evad|blind|tamper|neutrali|circumvent|uninstall|cover|timestomp|hid|encoded|steganograph|forensic|hollowing|clear|wip|delet|eras|purg|scrub/i],
  ['defense_evasion', true, new RegExp(String.raw`\b(?:disabl\w*|stop\w*|turn\w*\s+off|deactivat\w*|remov\w*|clear\w*|delet\w*|wip\w*)\s+(?:\w+\s+){0,3}?(?:${SECURITY_TOOLS}|logs?|history)\b`, 'gi'), /disabl|stop|turn|deactivat|remov|clear|delet|wip/i],
  ['impact', false, /\bransomware\b|\bencrypt\w*\s+(?:\w+\s+){0,4}?(?:files?|data|drives?|disks?|documents?)\b[^.\n]{0,60}?\b(?:ransom|extort\w*|bitcoin|payment|decrypt(?:ion)?\s+key)\b|\bfork\s+bombs?\b|\bzip\s+bombs?\b|\bexhaust(?:s|ing)?\s+(?:\w+\s+){0,2}?(?:disks?|quotas?|space|inodes|memory|cpu|resources|process\s+table|file\s+descriptors|connections)\b|\b(?:d?dos|denial[-\s]of[-\s]service)\s+(?:attacks?|floods?)\b|\b(?:syn|udp|icmp|http|ping)\s+flood\w*\b|\bflood\w*\s+(?:the\s+)?(?:target|victim|network)\b|\b(?:wipe|wiping|destroy\w*|corrupt\w*|brick\w*)\s+(?:\w+\s+){0,3}?(?:mbr|master\s+boot\s+record|boot\s+(?:sector|loader)|firmware|bios|partition\s+tables?)\b|\bdelet\w*\s+(?:all\s+)?(?:volume\s+)?shadow\s+copies\b|\brm\s+-rf\s+\/(?![\w.])/gi, /ransom|encrypt|bomb|exhaust|dos|denial|flood|wip|destroy|corrupt|brick|shadow|rm\s+-rf/i],
  ['impact', true, /\b(?:wip|destroy|corrupt|shred|overwrit|delet|eras|encrypt|exhaust|crash|sabotag)\w*\s+(?:\w+\s+){0,3}?(?:disks?|drives?|partitions?|filesystems?|all\s+(?:data|files)|backups?|databases?|files|data|memory|cpu|resources|process\s+table|systems?)\b/gi, /wip|destroy|corrupt|shred|overwrit|delet|eras|encrypt|exhaust|crash|sabotag/i],
  ['malware', false, /\b(?:malware|trojan(?:s|ized)?|worms?\s+that|self[-\s]?(?:propagat|replicat|spread)\w*|cryptojack\w*|crypto[-\s]?miners?|coin[-\s]?miners?|botnets?|droppers?|shellcode|keyloggers?|infostealers?|logic\s+bombs?)\b|\bpayloads?\s+(?:onto|to)\s+(?:the\s+)?(?:target|victim)/gi, /malware|trojan|worm|self|cryptojack|miner|botnet|dropper|shellcode|keylogger|infostealer|bomb|payload/i],
  ['execution_attack', false, /(?<!dependency\s)\binjection\b|\bexploit(?:s|ing|ed|ation)?\b|\bhijack\w*|\bpoison\w*|\bpath\s+traversal\b|\b(?:symlink|deseriali[sz]ation|relay|race\s+condition|downgrade|replay|confusion|timing|side[-\s]channel|dictionary|man[-\s]in[-\s]the[-\s]middle|mitm)\s+attacks?\b|\bmalicious\b|\binject\w*\s+(?:\w+\s+){0,2}?(?:malicious|shellcode|payloads?|dll|librar(?:y|ies)\s+(?:into|via))\b|\bld_preload\b|\bdll\s+(?:injection|hijack\w*|side-?load\w*)\b|\bexploit\w*\s+(?:\w+\s+){0,3}?(?:vulnerabilit\w+|cve-\d{4}-\d+|flaws?|bugs?|weakness\w*|misconfigurations?|sockets?|deseriali[sz]ation)\b|\bremote\s+code\s+execution\b|\bheap\s+spray\w*|\bbuffer\s+overflow\s+(?:exploit|attack)\b/gi, /inject|exploit|hijack|poison|traversal|attack|malicious|remote\s+code|heap|overflow|preload|dll/i],
  ['execution_attack', false, /(?:^|[.!?:]\s+|\n\s*)(?:attack|infect|sabotage|backdoor|corrupt)\s+(?!(?:of|on|the\s+(?:file|data)\s+(?:check|detection)))\w+/gi, /attack|infect|sabotag|backdoor|corrupt/i],
  ['phishing', false, /\bphishing\b|\bfake\s+(?:login|sign[-\s]?in|bank\w*|password\s+reset)\s+(?:pages?|forms?|sites?|screens?|prompts?|emails?)\b|\bspoof\w*\s+(?:\w+\s+){0,2}?(?:emails?|senders?|caller\s+id|domains?|login\s+pages?|websites?|sms)\b/gi, /phish|fake|spoof/i],
  ['lateral_movement', false, /\blateral(?:ly)?\s+mov\w*|\bmov\w*\s+laterally\b|\b(?:spread|propagat)\w*\s+(?:\w+\s+){0,2}?(?:to|across|through)\s+(?:other\s+|all\s+)?(?:hosts?|machines?|computers?|systems?|the\s+network|network\s+shares)\b/gi, /lateral|spread|propagat/i],
  ['attacker_destination', false, /\b(?:to|at|on|from|back\s+to)\s+(?:the\s+|an?\s+)?attacker(?:'s)?(?:[-\s](?:controlled|owned))?\b|\battacker[-\s](?:controlled|owned|specified|supplied)\b|\b(?:controlled|owned|run)\s+by\s+(?:the\s+|an\s+)?attackers?\b/gi, /attacker/i],
];

/**
 * The text looks for, explains or guards against the capability rather than exercising it: a defensive or
 * descriptive verb before the cue in its sentence ("scans for rootkits", "detects credential theft"), or a
 * defensive noun right after it ("ransomware protection", "malware analysis").
 */
const DEFENSIVE_BEFORE = /\b(?:detect\w*|prevent\w*|protect\w*|block\w*|scan\w*|check\w*|monitor\w*|identif\w*|analy[sz]\w*|audit\w*|hunt\w*|investigat\w*|alert\w*|flag\w*|search\w*|list\w*|look\w*\s+up|lookup|query\w*|mitigat\w*|defend\w*|defen[cs]e|simulat\w*|test\w*\s+(?:for|against|whether)|assess\w*|classif\w*|explain\w*|describ\w*|learn\w*|report\w*|review\w*|triag\w*|remediat\w*|quarantin\w*|clean\w*|remov\w*\s+(?:the\s+)?(?:malware|virus|infection)|guard\w*|harden\w*|secur\w*\s+against|resist\w*|vulnerab\w*\s+to|immune|anti|mitre|att&ck|ioc|indicators?|threat\s+intel\w*|cve\s+details|knowledge\s+base|virustotal|yara|sandbox\w*\s+(?:analysis|report)|get|fetch\w*|retriev\w*|returns?|show\w*|find\w*|samples?|tags?|e\.g\.|tracker|feeds?|recent|known|against)\b/gi;
const DEFENSIVE_AFTER = /^[\s-]*(?:detection|detector|protection|prevention|analysis|analyzer|scanner|scans?|checks?|indicators?|signatures?|reports?|alerts?|rules?|techniques?|tactics?|risks?|attempts?|activity|incidents?|events?|families|samples?|intel\w*|feeds?|hunting|defen[cs]e|mitigation|awareness|training|vulnerabilit\w+|protected|resistant|safe|proof|prevention|confidence\s+score|reputation)\b/i;

/**
 * A defensive word governs the cue unless the cue is a second action joined right after it ("monitor and
 * exfiltrate", "search for and exfiltrate"); a list of objects ("scans for rootkits and backdoors") stays governed.
 */
function defensive(before: string): boolean {
  const last = [...before.matchAll(DEFENSIVE_BEFORE)].at(-1);
  return last !== undefined && !/^\s*(?:for\s+)?(?:,\s*)?(?:and|then|and\s+then)\s*$/i.test(before.slice(last.index + last[0].length));
}

function sentenceBefore(text: string, at: number): string {
  const from = Math.max(0, at - 120);
  const before = text.slice(from, at);
  const cut = Math.max(before.lastIndexOf('. '), before.lastIndexOf('\n'), before.lastIndexOf('; '));
  return cut < 0 ? before : before.slice(cut + 1);
}

function sentenceAround(text: string, start: number, end: number): string {
  const after = text.slice(end, end + 120);
  const stop = after.search(/[.!?;\n](?:\s|$)/);
  return sentenceBefore(text, start) + text.slice(start, end) + (stop < 0 ? after : after.slice(0, stop));
}

export const harmfulCapability = contextFree('capability', ['documentation'], (text) => {
  // Qualified cues need a hostile word somewhere in the text (a cheap test before their common verbs are scanned).
  const hostile = HOSTILE_RE.test(text);
  const out: StructuralSignal[] = [];
  const seen = new Set<string>();
  for (const [cue, qualified, pattern, guard] of CUES) {
    if (seen.has(cue) || (qualified && !hostile) || !guard.test(text)) continue;
    for (const m of text.matchAll(pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (defensive(sentenceBefore(text, start)) || DEFENSIVE_AFTER.test(text.slice(end, end + 30))) continue;
      if (qualified && !HOSTILE_RE.test(sentenceAround(text, start, end))) continue;
      out.push(signalAt(`capability.${cue}`, 'harmful_capability', text, start, end));
      seen.add(cue);
      break;
    }
  }
  return out;
});
