/** New alerts as the detectors raise them, read from the home's alerts topic (for `alerts --follow` and `up`). */
import { TOPICS } from '../../pipeline/bus.js';
import { EmbeddedBus } from '../../pipeline/embedded/embeddedBus.js';
import { resolveHome } from '../../pipeline/home.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import type { StopSignal } from '../stopSignal.js';

/** Consumer group of the followers on the alerts topic; it only ever reads forward from "now", so it holds back nothing. */
export const ALERT_FOLLOWERS = 'alert-followers';
const POLL_MS = 250;

/** Hands `print` each alert published to the home's alerts topic from now on, until `stop`. */
export async function followAlerts(home: string | undefined, stop: StopSignal, print: (alert: McpAlert) => void): Promise<void> {
  const bus = new EmbeddedBus(resolveHome(home).bus);
  try {
    const consumer = await bus.consumer(ALERT_FOLLOWERS, TOPICS.alerts);
    consumer.seek(bus.describe().topics.find((t) => t.topic === TOPICS.alerts)?.lastOffset ?? -1);
    while (!stop.stopping) {
      const records = await consumer.poll(200);
      for (const record of records) print(JSON.parse(record.value) as McpAlert);
      if (records.length > 0) await consumer.commit(records.at(-1)!.offset);
      else await stop.sleep(POLL_MS);
    }
  } finally {
    await bus.close();
  }
}
