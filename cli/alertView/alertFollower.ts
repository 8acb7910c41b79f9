/** New alerts as the detectors raise them, read from the home's alerts topic (for `alerts --follow` and `up`). */
import { TOPICS, type BusConsumer } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../../pipeline/home.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { StopSignal } from '../stopSignal.js';

/** Consumer group of the followers on the alerts topic; it only ever reads forward from "now", so it holds back nothing. */
export const ALERT_FOLLOWERS = 'alert-followers';
const POLL_MS = 250;

/** Reads the alerts published to a bus after the moment it was opened. */
export class AlertFollower {
  private constructor(private readonly consumer: BusConsumer) {}

  /** Starts after the last alert already on `bus`. */
  static async open(bus: EmbeddedBus): Promise<AlertFollower> {
    const consumer = await bus.consumer(ALERT_FOLLOWERS, TOPICS.alerts);
    consumer.seek(bus.describe().topics.find((t) => t.topic === TOPICS.alerts)?.lastOffset ?? -1);
    return new AlertFollower(consumer);
  }

  /** Hands `print` every alert published since the last call; returns how many. */
  async drain(print: (alert: McpAlert) => void): Promise<number> {
    let total = 0;
    for (let records = await this.consumer.poll(200); records.length > 0; records = await this.consumer.poll(200)) {
      for (const record of records) print(JSON.parse(record.value) as McpAlert);
      await this.consumer.commit(records.at(-1)!.offset);
      total += records.length;
    }
    return total;
  }
}

/** Hands `print` each alert published to the home's alerts topic from now on, until `stop`. */
export async function followAlerts(home: string | undefined, stop: StopSignal, print: (alert: McpAlert) => void): Promise<void> {
  const bus = new EmbeddedBus(resolveHome(home).bus);
  try {
    const follower = await AlertFollower.open(bus);
    while (!stop.stopping) if ((await follower.drain(print)) === 0) await stop.sleep(POLL_MS);
  } finally {
    await bus.close();
  }
}
