/**
 * A Kafka wire-protocol test broker: one node on 127.0.0.1 that answers the APIs kafkajs uses (ApiVersions, Metadata,
 * Produce, Fetch, ListOffsets, FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, CreateTopics, InitProducerId) so the Kafka bus is tested with the real client over real sockets.
 * It keeps its topics and committed offsets in memory across stop() and start(), on the same port, so tests can take
 * the "cluster" away and bring it back.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createTopic, handleRequest, type BrokerState } from './kafka/brokerApis.js';
import { GroupCoordinator } from './kafka/groupCoordinator.js';
import type { PartitionLog } from './kafka/partitionLog.js';
import { WireReader } from './kafka/wireCodec.js';

export interface KafkaTestBrokerOptions {
  /** Create unknown topics on first use (default true), with `defaultPartitions` partitions (default 1). */
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
}

/** A single-node Kafka broker in this process. */
export class KafkaTestBroker {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly state: BrokerState;
  /** Client ids whose connections the broker refuses and drops (a process that "died"). */
  private readonly shunned = new Set<string>();

  private constructor(options: KafkaTestBrokerOptions) {
    this.state = {
      nodeId: 0,
      host: '127.0.0.1',
      port: 0,
      topics: new Map(),
      coordinator: new GroupCoordinator(),
      autoCreateTopics: options.autoCreateTopics ?? true,
      defaultPartitions: options.defaultPartitions ?? 1,
      nextProducerId: 1000,
    };
  }

  /** Starts a broker on 127.0.0.1 with an OS-chosen port. */
  static async start(options: KafkaTestBrokerOptions = {}): Promise<KafkaTestBroker> {
    const broker = new KafkaTestBroker(options);
    await broker.start();
    return broker;
  }

  /** The bootstrap address list for a client. */
  get brokers(): string[] {
    return [`${this.state.host}:${this.state.port}`];
  }

  /** Whether the broker is accepting connections. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens again (on the same port after a stop), with the topics and committed offsets it had. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.state.port, this.state.host, () => resolve());
    });
    const address = server.address();
    if (address && typeof address === 'object') this.state.port = address.port;
    this.server = server;
    this.state.coordinator.start();
  }

  /** Closes every connection and stops listening; topics and committed offsets are kept for start(). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.state.coordinator.stop();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Creates a topic with `partitions` partitions (no-op if it exists). */
  createTopic(name: string, partitions: number): void {
    createTopic(this.state, name, partitions);
  }

  /** The topics and their partition counts. */
  topics(): Map<string, number> {
    return new Map([...this.state.topics].map(([name, logs]) => [name, logs.length]));
  }

  /** The next offset of each partition of a topic (how many records each holds). */
  highWatermarks(topic: string): number[] {
    return (this.state.topics.get(topic) ?? []).map((log: PartitionLog) => log.highWatermark);
  }

  /** The record batches a partition holds, as stored (for tests of the stored bytes). */
  storedBatches(topic: string, partition: number): Buffer {
    return this.state.topics.get(topic)?.[partition]?.read(0, Number.MAX_SAFE_INTEGER) ?? Buffer.alloc(0);
  }

  /** A group's committed offset for a partition, or -1. */
  committedOffset(group: string, topic: string, partition: number): number {
    return this.state.coordinator.committed(group, topic, partition);
  }

  /** A group's current member ids. */
  groupMembers(group: string): string[] {
    return this.state.coordinator.members(group);
  }

  /** A group's current generation. */
  groupGeneration(group: string): number {
    return this.state.coordinator.generation(group);
  }

  /**
   * Cuts off every connection of a client id and refuses it from now on, as if the process behind it died: its group
   * membership then ends by session timeout, exactly as for a killed worker.
   */
  shun(clientId: string): void {
    this.shunned.add(clientId);
    for (const socket of this.sockets) if ((socket as Socket & { clientId?: string }).clientId === clientId) socket.destroy();
  }

  /** Lets a shunned client id connect again (so an in-process "dead" client can be shut down cleanly). */
  readmit(clientId: string): void {
    this.shunned.delete(clientId);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending: Buffer = Buffer.alloc(0);
    // Requests on one connection are answered in order, as a broker does.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + frame.length);
        queue = queue.then(() => this.answer(socket, frame));
      }
    });
  }

  private async answer(socket: Socket, frame: Buffer): Promise<void> {
    const reader = new WireReader(frame);
    const apiKey = reader.int16();
    const apiVersion = reader.int16();
    const correlationId = reader.int32();
    const clientId = reader.nullableString() ?? '';
    (socket as Socket & { clientId?: string }).clientId = clientId;
    if (this.shunned.has(clientId)) return void socket.destroy();
    // Produce with acks=0 expects no answer; kafkajs never sends it (the Kafka bus produces with acks=all).
    const body = await handleRequest(this.state, { apiKey, apiVersion, clientId }, reader);
    if (socket.destroyed) return;
    const header = Buffer.alloc(8);
    header.writeInt32BE(4 + body.length, 0);
    header.writeInt32BE(correlationId, 4);
    socket.write(Buffer.concat([header, body]));
  }
}
