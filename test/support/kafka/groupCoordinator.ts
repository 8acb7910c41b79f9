/**
 * Consumer groups of the test broker, following the classic (eager) group protocol a Kafka coordinator runs:
 * JoinGroup gathers every member (waiting up to the rebalance timeout for known members to rejoin), elects a leader
 * and bumps the generation; SyncGroup hands out the leader's assignment; Heartbeat keeps a member alive and tells it
 * when a rebalance started; members whose session times out or that leave trigger a rebalance. Committed offsets
 * survive a broker restart; memberships do not (members learn it as UNKNOWN_MEMBER_ID and join again).
 */
import { randomUUID } from 'node:crypto';
import { ERROR } from './errorCodes.js';

interface Member {
  id: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Buffer }[];
  lastSeen: number;
  assignment: Buffer;
  joining?: (response: JoinResponse) => void;
  syncing?: (response: SyncResponse) => void;
}

type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

interface Group {
  state: GroupState;
  generation: number;
  protocol: string;
  leader: string;
  members: Map<string, Member>;
  rebalanceTimer?: NodeJS.Timeout;
}

/** What a JoinGroup request carries. */
export interface JoinRequest {
  groupId: string;
  clientId: string;
  memberId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Buffer }[];
}

/** What a JoinGroup response carries; `members` is filled for the leader only. */
export interface JoinResponse {
  error: number;
  generation: number;
  protocol: string;
  leaderId: string;
  memberId: string;
  members: { memberId: string; metadata: Buffer }[];
}

/** What a SyncGroup response carries. */
export interface SyncResponse {
  error: number;
  assignment: Buffer;
}

/** Every consumer group of one broker, with their committed offsets. */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** group → "topic/partition" → committed offset. */
  private readonly offsets = new Map<string, Map<string, number>>();
  private sessionTimer: NodeJS.Timeout | undefined;

  /** Starts expiring members whose sessions time out. */
  start(): void {
    this.sessionTimer = setInterval(() => this.expireSessions(), 100);
    this.sessionTimer.unref();
  }

  /** Forgets every membership (a restarted coordinator knows only committed offsets); answers no waiting request. */
  stop(): void {
    clearInterval(this.sessionTimer);
    for (const group of this.groups.values()) clearTimeout(group.rebalanceTimer);
    this.groups.clear();
  }

  /** JoinGroup: resolves when the rebalance this join takes part in completes. */
  join(request: JoinRequest): Promise<JoinResponse> {
    const group = this.group(request.groupId);
    let member = request.memberId === '' ? undefined : group.members.get(request.memberId);
    if (request.memberId !== '' && !member) return Promise.resolve(joinError(ERROR.UNKNOWN_MEMBER_ID, request.memberId));
    if (group.members.size > 0 && !request.protocols.some((p) => this.supportedByAll(group, p.name, member?.id))) {
      return Promise.resolve(joinError(ERROR.INCONSISTENT_GROUP_PROTOCOL, request.memberId));
    }
    if (!member) {
      member = { id: `${request.clientId}-${randomUUID()}`, clientId: request.clientId, sessionTimeoutMs: 0, rebalanceTimeoutMs: 0, protocols: [], lastSeen: 0, assignment: Buffer.alloc(0) };
      group.members.set(member.id, member);
    }
    Object.assign(member, { sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs, protocols: request.protocols, lastSeen: Date.now() });
    const joined = new Promise<JoinResponse>((resolve) => (member.joining = resolve));
    if (group.state !== 'PreparingRebalance') this.prepareRebalance(group);
    this.completeJoinIfReady(group);
    return joined;
  }

  /** SyncGroup: the leader brings the assignment; followers wait for it. */
  sync(groupId: string, generation: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[]): Promise<SyncResponse> {
    const group = this.group(groupId);
    const member = group.members.get(memberId);
    if (!member) return Promise.resolve({ error: ERROR.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
    if (generation !== group.generation) return Promise.resolve({ error: ERROR.ILLEGAL_GENERATION, assignment: Buffer.alloc(0) });
    if (group.state === 'PreparingRebalance') return Promise.resolve({ error: ERROR.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
    member.lastSeen = Date.now();
    if (group.state === 'Stable') return Promise.resolve({ error: ERROR.NONE, assignment: member.assignment });
    const synced = new Promise<SyncResponse>((resolve) => (member.syncing = resolve));
    if (memberId === group.leader) {
      const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
      group.state = 'Stable';
      for (const m of group.members.values()) {
        m.assignment = byMember.get(m.id) ?? Buffer.alloc(0);
        m.syncing?.({ error: ERROR.NONE, assignment: m.assignment });
        m.syncing = undefined;
      }
    }
    return synced;
  }

  /** Heartbeat: keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to join again. */
  heartbeat(groupId: string, generation: number, memberId: string): number {
    const group = this.group(groupId);
    const member = group.members.get(memberId);
    if (!member) return ERROR.UNKNOWN_MEMBER_ID;
    member.lastSeen = Date.now();
    if (group.state === 'PreparingRebalance' || group.state === 'CompletingRebalance') return ERROR.REBALANCE_IN_PROGRESS;
    if (generation !== group.generation) return ERROR.ILLEGAL_GENERATION;
    return ERROR.NONE;
  }

  /** LeaveGroup: the member goes and the others rebalance. */
  leave(groupId: string, memberId: string): number {
    const group = this.group(groupId);
    if (!group.members.has(memberId)) return ERROR.UNKNOWN_MEMBER_ID;
    this.removeMember(group, memberId);
    return ERROR.NONE;
  }

  /** OffsetCommit: generation -1 commits for a client outside the group (an admin); members must be current. */
  commit(groupId: string, generation: number, memberId: string, topic: string, partition: number, offset: number): number {
    if (generation >= 0) {
      const group = this.group(groupId);
      const member = group.members.get(memberId);
      if (!member) return ERROR.UNKNOWN_MEMBER_ID;
      if (generation !== group.generation) return ERROR.ILLEGAL_GENERATION;
      if (group.state === 'CompletingRebalance') return ERROR.REBALANCE_IN_PROGRESS;
      member.lastSeen = Date.now();
    }
    let committed = this.offsets.get(groupId);
    if (!committed) this.offsets.set(groupId, (committed = new Map()));
    committed.set(`${topic}/${partition}`, offset);
    return ERROR.NONE;
  }

  /** OffsetFetch: the committed offset, or -1. */
  committed(groupId: string, topic: string, partition: number): number {
    return this.offsets.get(groupId)?.get(`${topic}/${partition}`) ?? -1;
  }

  /** The ids of a group's current members (for tests that watch rebalances). */
  members(groupId: string): string[] {
    return [...(this.groups.get(groupId)?.members.keys() ?? [])];
  }

  /** A group's generation (bumped by every completed rebalance). */
  generation(groupId: string): number {
    return this.groups.get(groupId)?.generation ?? 0;
  }

  private group(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = { state: 'Empty', generation: 0, protocol: '', leader: '', members: new Map() }));
    return group;
  }

  private supportedByAll(group: Group, protocol: string, except: string | undefined): boolean {
    return [...group.members.values()].every((m) => m.id === except || m.protocols.some((p) => p.name === protocol));
  }

  private prepareRebalance(group: Group): void {
    group.state = 'PreparingRebalance';
    for (const member of group.members.values()) {
      member.syncing?.({ error: ERROR.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
      member.syncing = undefined;
    }
    const timeout = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    clearTimeout(group.rebalanceTimer);
    // Members that have not joined again by the rebalance timeout are dropped from the new generation.
    group.rebalanceTimer = setTimeout(() => {
      for (const member of [...group.members.values()]) if (!member.joining) group.members.delete(member.id);
      this.completeJoinIfReady(group);
    }, timeout);
    group.rebalanceTimer.unref();
  }

  private completeJoinIfReady(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    const members = [...group.members.values()];
    if (members.some((m) => !m.joining)) return;
    clearTimeout(group.rebalanceTimer);
    group.generation += 1;
    if (members.length === 0) {
      group.state = 'Empty';
      return;
    }
    if (!group.members.has(group.leader)) group.leader = members[0]!.id;
    const leader = group.members.get(group.leader)!;
    group.protocol = leader.protocols.find((p) => this.supportedByAll(group, p.name, undefined))?.name ?? '';
    group.state = 'CompletingRebalance';
    for (const member of members) {
      const metadata = (m: Member): Buffer => m.protocols.find((p) => p.name === group.protocol)?.metadata ?? Buffer.alloc(0);
      const response: JoinResponse = {
        error: ERROR.NONE,
        generation: group.generation,
        protocol: group.protocol,
        leaderId: group.leader,
        memberId: member.id,
        members: member.id === group.leader ? members.map((m) => ({ memberId: m.id, metadata: metadata(m) })) : [],
      };
      member.lastSeen = Date.now();
      member.joining?.(response);
      member.joining = undefined;
    }
  }

  private removeMember(group: Group, memberId: string): void {
    const member = group.members.get(memberId);
    group.members.delete(memberId);
    member?.syncing?.({ error: ERROR.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
    if (group.state === 'PreparingRebalance') this.completeJoinIfReady(group);
    else if (group.members.size > 0) this.prepareRebalance(group);
    else {
      group.state = 'Empty';
      group.generation += 1;
    }
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const group of this.groups.values()) {
      for (const member of [...group.members.values()]) {
        if (!member.joining && !member.syncing && now - member.lastSeen > member.sessionTimeoutMs) this.removeMember(group, member.id);
      }
    }
  }
}

function joinError(error: number, memberId: string): JoinResponse {
  return { error, generation: -1, protocol: '', leaderId: '', memberId, members: [] };
}
