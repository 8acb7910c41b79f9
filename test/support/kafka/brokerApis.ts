/**
 * The Kafka APIs the test broker answers, one handler per API key, each at the single version the broker advertises
 * (kafkajs then uses exactly that version). Request and response layouts follow the Kafka protocol guide; each
 * handler's comment gives the layout it reads and writes.
 */
import { ERROR } from './errorCodes.js';
import type { GroupCoordinator } from './groupCoordinator.js';
import { PartitionLog } from './partitionLog.js';
import { WireReader, WireWriter } from './wireCodec.js';

/** What the handlers share: the broker's address, its topics and its group coordinator. */
export interface BrokerState {
  nodeId: number;
  host: string;
  port: number;
  topics: Map<string, PartitionLog[]>;
  coordinator: GroupCoordinator;
  /** Create a topic a producer or consumer names before anyone created it. */
  autoCreateTopics: boolean;
  defaultPartitions: number;
  nextProducerId: number;
}

/** The request header fields a handler may need. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  clientId: string;
}

type Handler = (state: BrokerState, request: WireReader, header: RequestHeader) => WireWriter | Promise<WireWriter>;

const API = { Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, ApiVersions: 18, CreateTopics: 19, InitProducerId: 22 } as const;

/** Each API's supported [min, max] version. */
const VERSIONS: Record<number, [number, number]> = {
  [API.Produce]: [3, 3],
  [API.Fetch]: [4, 4],
  [API.ListOffsets]: [2, 2],
  [API.Metadata]: [1, 1],
  [API.OffsetCommit]: [2, 2],
  [API.OffsetFetch]: [1, 1],
  [API.FindCoordinator]: [0, 0],
  [API.JoinGroup]: [2, 2],
  [API.Heartbeat]: [1, 1],
  [API.LeaveGroup]: [1, 1],
  [API.SyncGroup]: [1, 1],
  [API.ApiVersions]: [0, 2],
  [API.CreateTopics]: [1, 1],
  [API.InitProducerId]: [0, 0],
};

/** Answers one request; an unknown API or version gets UNSUPPORTED_VERSION in the ApiVersions layout, as brokers do. */
export async function handleRequest(state: BrokerState, header: RequestHeader, request: WireReader): Promise<Buffer> {
  const range = VERSIONS[header.apiKey];
  if (!range || header.apiVersion < range[0] || header.apiVersion > range[1]) {
    return new WireWriter().int16(ERROR.UNSUPPORTED_VERSION).array(supportedApis(), writeApiVersion).toBuffer();
  }
  return (await HANDLERS[header.apiKey]!(state, request, header)).toBuffer();
}

const HANDLERS: Record<number, Handler> = {
  /** ApiVersions v0-2 => error_code [api_key min max] throttle_time_ms (v1+). */
  [API.ApiVersions]: (_state, _request, header) => {
    const out = new WireWriter().int16(ERROR.NONE).array(supportedApis(), writeApiVersion);
    return header.apiVersion >= 1 ? out.int32(0) : out;
  },

  /** Metadata v1: [topics] => [brokers] controller_id [topic_metadata]. */
  [API.Metadata]: (state, request) => {
    const wanted = request.array((r) => r.string());
    const names = wanted ?? [...state.topics.keys()];
    return new WireWriter()
      .array([state], (w, s) => w.int32(s.nodeId).string(s.host).int32(s.port).string(null))
      .int32(state.nodeId)
      .array(names, (w, name) => {
        const partitions = topicFor(state, name);
        w.int16(partitions ? ERROR.NONE : ERROR.UNKNOWN_TOPIC_OR_PARTITION).string(name).boolean(false);
        w.array(partitions ?? [], (pw, _log, index) => pw.int16(ERROR.NONE).int32(index).int32(state.nodeId).array([state.nodeId], int32).array([state.nodeId], int32));
      });
  },

  /** CreateTopics v1: [topic num_partitions replication_factor [assignment] [configs]] timeout validate_only => [topic error_code error_message]. */
  [API.CreateTopics]: (state, request) => {
    const topics = request.array((r) => {
      const topic = { name: r.string(), partitions: r.int32(), replication: r.int16() };
      r.array((a) => [a.int32(), a.array((x) => x.int32())]);
      r.array((c) => [c.string(), c.nullableString()]);
      return topic;
    }) ?? [];
    request.int32();
    const validateOnly = request.boolean();
    return new WireWriter().array(topics, (w, topic) => {
      const partitions = topic.partitions > 0 ? topic.partitions : state.defaultPartitions;
      if (state.topics.has(topic.name)) w.string(topic.name).int16(ERROR.TOPIC_ALREADY_EXISTS).string(`Topic '${topic.name}' already exists.`);
      else if (topic.replication > 1) w.string(topic.name).int16(ERROR.INVALID_PARTITIONS).string('the test broker is a single node: replication factor must be 1');
      else {
        if (!validateOnly) createTopic(state, topic.name, partitions);
        w.string(topic.name).int16(ERROR.NONE).string(null);
      }
    });
  },

  /** InitProducerId v0: transactional_id timeout => throttle error producer_id producer_epoch. */
  [API.InitProducerId]: (state) => new WireWriter().int32(0).int16(ERROR.NONE).int64(state.nextProducerId++).int16(0),

  /** Produce v3: transactional_id acks timeout [topic [partition records]] => [topic [partition error base_offset log_append_time]] throttle. */
  [API.Produce]: (state, request) => {
    request.nullableString();
    request.int16();
    request.int32();
    const topics = request.array((r) => ({ name: r.string(), partitions: r.array((p) => ({ index: p.int32(), records: p.bytes() })) ?? [] })) ?? [];
    return new WireWriter()
      .array(topics, (w, topic) => {
        const logs = topicFor(state, topic.name);
        w.string(topic.name).array(topic.partitions, (pw, partition) => {
          const log = logs?.[partition.index];
          const result = log ? log.append(partition.records ?? Buffer.alloc(0)) : { error: ERROR.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1 };
          pw.int32(partition.index).int16(result.error).int64(result.baseOffset).int64(-1);
        });
      })
      .int32(0);
  },

  /**
   * Fetch v4: replica max_wait min_bytes max_bytes isolation [topic [partition offset max_bytes]] =>
   * throttle [topic [partition error high_watermark last_stable_offset [aborted] records]]. Waits up to max_wait for data.
   */
  [API.Fetch]: async (state, request) => {
    request.int32();
    const maxWaitMs = request.int32();
    request.int32();
    request.int32();
    request.int8();
    const topics = request.array((r) => ({ name: r.string(), partitions: r.array((p) => ({ index: p.int32(), offset: p.int64(), maxBytes: p.int32() })) ?? [] })) ?? [];
    const wanted = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p, log: state.topics.get(t.name)?.[p.index] })));
    const hasData = (): boolean => wanted.some((w) => w.log !== undefined && w.log.highWatermark > w.offset);
    if (!hasData() && maxWaitMs > 0) await Promise.race(wanted.flatMap((w) => (w.log ? [w.log.waitForData(maxWaitMs)] : [])).concat(sleep(maxWaitMs)));
    return new WireWriter().int32(0).array(topics, (w, topic) => {
      w.string(topic.name).array(topic.partitions, (pw, partition) => {
        const log = state.topics.get(topic.name)?.[partition.index];
        if (!log) return void pw.int32(partition.index).int16(ERROR.UNKNOWN_TOPIC_OR_PARTITION).int64(-1).int64(-1).array([], int32).bytes(Buffer.alloc(0));
        const outOfRange = partition.offset > log.highWatermark || partition.offset < log.logStartOffset;
        pw.int32(partition.index)
          .int16(outOfRange ? ERROR.OFFSET_OUT_OF_RANGE : ERROR.NONE)
          .int64(log.highWatermark)
          .int64(log.highWatermark)
          .array([], int32)
          .bytes(outOfRange ? Buffer.alloc(0) : log.read(partition.offset, partition.maxBytes));
      });
    });
  },

  /** ListOffsets v2: replica isolation [topic [partition timestamp]] => throttle [topic [partition error timestamp offset]]. */
  [API.ListOffsets]: (state, request) => {
    request.int32();
    request.int8();
    const topics = request.array((r) => ({ name: r.string(), partitions: r.array((p) => ({ index: p.int32(), time: p.int64() })) ?? [] })) ?? [];
    return new WireWriter().int32(0).array(topics, (w, topic) => {
      w.string(topic.name).array(topic.partitions, (pw, partition) => {
        const log = state.topics.get(topic.name)?.[partition.index];
        pw.int32(partition.index)
          .int16(log ? ERROR.NONE : ERROR.UNKNOWN_TOPIC_OR_PARTITION)
          .int64(-1)
          .int64(log ? log.offsetForTime(partition.time) : -1);
      });
    });
  },

  /** FindCoordinator v0: group_id => error node_id host port (this broker coordinates every group). */
  [API.FindCoordinator]: (state) => new WireWriter().int16(ERROR.NONE).int32(state.nodeId).string(state.host).int32(state.port),

  /** JoinGroup v2: group session_timeout rebalance_timeout member protocol_type [name metadata] => throttle error generation protocol leader member [member metadata]. */
  [API.JoinGroup]: async (state, request, header) => {
    const groupId = request.string();
    const sessionTimeoutMs = request.int32();
    const rebalanceTimeoutMs = request.int32();
    const memberId = request.string();
    request.string();
    const protocols = request.array((r) => ({ name: r.string(), metadata: r.bytes() ?? Buffer.alloc(0) })) ?? [];
    const joined = await state.coordinator.join({ groupId, clientId: header.clientId, memberId, sessionTimeoutMs, rebalanceTimeoutMs, protocols });
    return new WireWriter()
      .int32(0)
      .int16(joined.error)
      .int32(joined.generation)
      .string(joined.protocol)
      .string(joined.leaderId)
      .string(joined.memberId)
      .array(joined.members, (w, m) => w.string(m.memberId).bytes(m.metadata));
  },

  /** SyncGroup v1: group generation member [member assignment] => throttle error assignment. */
  [API.SyncGroup]: async (state, request) => {
    const groupId = request.string();
    const generation = request.int32();
    const memberId = request.string();
    const assignments = request.array((r) => ({ memberId: r.string(), assignment: r.bytes() ?? Buffer.alloc(0) })) ?? [];
    const synced = await state.coordinator.sync(groupId, generation, memberId, assignments);
    return new WireWriter().int32(0).int16(synced.error).bytes(synced.assignment);
  },

  /** Heartbeat v1: group generation member => throttle error. */
  [API.Heartbeat]: (state, request) => new WireWriter().int32(0).int16(state.coordinator.heartbeat(request.string(), request.int32(), request.string())),

  /** LeaveGroup v1: group member => throttle error. */
  [API.LeaveGroup]: (state, request) => new WireWriter().int32(0).int16(state.coordinator.leave(request.string(), request.string())),

  /** OffsetCommit v2: group generation member retention [topic [partition offset metadata]] => [topic [partition error]]. */
  [API.OffsetCommit]: (state, request) => {
    const groupId = request.string();
    const generation = request.int32();
    const memberId = request.string();
    request.int64();
    const topics = request.array((r) => ({ name: r.string(), partitions: r.array((p) => ({ index: p.int32(), offset: p.int64(), metadata: p.nullableString() })) ?? [] })) ?? [];
    return new WireWriter().array(topics, (w, topic) => {
      w.string(topic.name).array(topic.partitions, (pw, p) => pw.int32(p.index).int16(state.coordinator.commit(groupId, generation, memberId, topic.name, p.index, p.offset)));
    });
  },

  /** OffsetFetch v1: group [topic [partition]] => [topic [partition offset metadata error]]. */
  [API.OffsetFetch]: (state, request) => {
    const groupId = request.string();
    const topics = request.array((r) => ({ name: r.string(), partitions: r.array((p) => p.int32()) ?? [] })) ?? [];
    return new WireWriter().array(topics, (w, topic) => {
      w.string(topic.name).array(topic.partitions, (pw, index) => pw.int32(index).int64(state.coordinator.committed(groupId, topic.name, index)).string('').int16(ERROR.NONE));
    });
  },
};

/** Creates a topic with `partitions` empty partitions (no-op if it exists). */
export function createTopic(state: BrokerState, name: string, partitions: number): PartitionLog[] {
  let logs = state.topics.get(name);
  if (!logs) state.topics.set(name, (logs = Array.from({ length: partitions }, () => new PartitionLog())));
  return logs;
}

function topicFor(state: BrokerState, name: string): PartitionLog[] | undefined {
  return state.topics.get(name) ?? (state.autoCreateTopics ? createTopic(state, name, state.defaultPartitions) : undefined);
}

function supportedApis(): [number, number, number][] {
  return Object.entries(VERSIONS).map(([key, [min, max]]) => [Number(key), min, max]);
}

function writeApiVersion(w: WireWriter, [key, min, max]: [number, number, number]): void {
  w.int16(key).int16(min).int16(max);
}

function int32(w: WireWriter, value: number): void {
  w.int32(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
