/**
 * Groups of records that must stay on one side of a split. The datasets are templated: a malicious result embeds a
 * context that is also a benign record, and one attack string appears at several positions. Splitting records at
 * random would test the model on twins of its training data. Groups follow the datasets README: BIPIA context and
 * split, AgentDojo environment path (a window [i:j] joins the records it covers), MSB server directory (the original
 * server and every attacked copy of it), registry package, ASB agent, captured server package; linked groups are merged (union-find).
 */
import { createHash } from 'node:crypto';
import { sourceName, type LabelledRecord } from './labelledRecords.js';

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** The group keys of one record: it shares a group with every record having any of them. */
export function groupKeys(record: LabelledRecord): string[] {
  const source = sourceName(record);
  const m = record.meta;
  switch (source) {
    case 'bipia':
      return [`bipia:${str(m.context_idx)}:${record.split ?? ''}`];
    case 'agentdojo': {
      const path = str(m.env_path);
      const window = /^(.*)\[(\d+):(\d+)\]$/.exec(path);
      if (!window) return [`agentdojo:${str(m.suite)}:${path}`];
      const [, base, from, to] = window;
      const keys: string[] = [];
      for (let i = Number(from); i < Number(to); i++) keys.push(`agentdojo:${str(m.suite)}:${base}[${i}]`);
      return keys;
    }
    case 'msb': {
      const file = str(m.file);
      return [`msb:${file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : file}`, `msb-tool:${record.server ?? ''}:${record.tool_name ?? ''}`];
    }
    case 'asb':
      return [`asb:${str(m.agent)}`];
    case 'toolsdk':
      return [`toolsdk:${record.server ?? record.id}`];
    case 'cisco':
      return [`cisco:${str(m.file)}:${str(m.fixture)}`];
    default:
      // Captured servers (tapwire-srv, tapwire-res): one group per server package.
      if (source.startsWith('tapwire-') && record.server) return [`${source}:${record.server}`];
      return [`${source}:${record.server ?? ''}:${record.tool_name ?? record.id}`];
  }
}

/** One group id per record (the same for records that must stay together). */
export function recordGroups(records: readonly LabelledRecord[]): string[] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(k, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  };
  const keys = records.map(groupKeys);
  for (const ks of keys) for (const k of ks) if (!parent.has(k)) parent.set(k, k);
  for (const ks of keys) for (let i = 1; i < ks.length; i++) union(ks[0] as string, ks[i] as string);
  return keys.map((ks) => find(ks[0] as string));
}

/** A fold in [0, folds) per record, fixed by a hash of its group, so the split never changes between runs. */
export function groupFolds(records: readonly LabelledRecord[], folds: number, salt = ''): number[] {
  return recordGroups(records).map((g) => createHash('sha256').update(salt).update(g).digest().readUInt32BE(0) % folds);
}
