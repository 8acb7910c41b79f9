/** The fields of the console API's answers that the pages read (the server's console/server/* define them all). */
/** An alert as cli/alertView reads it (repeats within a session collapsed into one with a count). */
export interface AlertRow {
  id: string;
  short_id: string;
  '@timestamp': string;
  title: string;
  rule_id: string;
  category: string;
  severity: string;
  server?: string;
  host?: string;
  tool?: string;
  session?: string;
  host_session?: string;
  message: string;
  matched: { field: string; value?: string }[];
  count?: number;
}

export interface DiffRow {
  kind: 'context' | 'changed' | 'removed' | 'added' | 'gap';
  left?: { line: number; text: string };
  right?: { line: number; text: string };
}

export interface SideBySide {
  header: { left: string; right: string };
  rows: DiffRow[];
}

export interface EventDoc {
  '@timestamp': string;
  event: { id: string; action: string; duration?: number };
  message?: string;
  mcp: {
    session: { id: string };
    server: { name: string };
    direction?: string;
    method?: { name: string };
    message?: { kind: string };
    tools?: { name: string; description?: string }[];
    params?: unknown;
    result?: unknown;
  };
  gen_ai?: { tool?: { name?: string; call?: { arguments?: unknown; result?: unknown } } };
  error?: { message?: string };
}

export interface AlertDetail extends AlertRow {
  description: string;
  matched_full: { field: string; value?: string }[];
  details: Record<string, unknown>;
  diff?: SideBySide;
  approve?: string;
  evidence: EventDoc[];
  missing_evidence: string[];
}

export interface Exchange {
  id: string;
  session: string;
  time: string;
  direction?: string;
  method: string;
  kind: string;
  summary: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { code?: string; message?: string };
  durationMs?: number;
  unanswered?: boolean;
  alerts: string[];
}

export interface Timeline {
  session: string;
  hostSession?: string;
  host?: string;
  lanes: { session: string; server: string; serverVersion?: string; transport: string; focus: boolean }[];
  exchanges: Exchange[];
  flows: { alert: string; rule: string; severity: string; from: string; to: string }[];
  alerts: AlertRow[];
}

export interface InventoryServer {
  id: string;
  name: string;
  reportedName?: string;
  version?: string;
  transport: string;
  firstSeen: string;
  lastSeen: string;
  sessions: number;
  events: number;
  hosts: string[];
  pendingChanges: number;
  tools: { name: string; hash: string; description?: string; firstSeen: string; lastSeen: string; pin?: { hash: string; source: string; since: string; matches: boolean } }[];
}

export interface ReviewItem {
  serverId: string;
  serverName: string;
  key: string;
  item: string;
  kind: string;
  change: string;
  hash: string;
  pinnedHash?: string;
  pinSource?: string;
  firstSeen: string;
  sessions: string[];
  diff: SideBySide;
  command: string;
}
