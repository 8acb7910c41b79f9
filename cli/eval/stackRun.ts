/**
 * Runs records through the whole detection stack `tapwire replay` builds (loadDetection: the rule pack, every
 * stateful detector and the learned tier), optionally with another content model (a leave-one-source-out fold's),
 * and maps each alert back to the record whose events raised it.
 */
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import type { LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { loadDetection } from '../../service/detectionSetup.js';
import { recordEvents } from './recordEvents.js';

/** The alerts each record raised. */
export interface RecordOutcome {
  record: LabelledRecord;
  alerts: McpAlert[];
}

const BATCH = 1000;

/** Every record through one fresh stack; records keep their order. */
export function runStack(records: readonly LabelledRecord[], options: { rules?: string; contentModel?: ContentModel } = {}): RecordOutcome[] {
  const state = new EmbeddedStateStore(':memory:');
  try {
    const { runtime } = loadDetection(state, { ...(options.rules ? { rules: options.rules } : {}), ...(options.contentModel ? { contentModel: options.contentModel } : {}) });
    const outcomes = records.map((record) => ({ record, alerts: [] as McpAlert[] }));
    const owner = new Map<string, RecordOutcome>();
    const collect = (alerts: readonly McpAlert[]): void => {
      for (const alert of alerts) {
        const outcome = owner.get(alert.alert.source_event_ids[0] as string);
        if (outcome) outcome.alerts.push(alert);
      }
    };
    for (let start = 0; start < records.length; start += BATCH) {
      const batch = runtime.batch();
      const events = records.slice(start, start + BATCH).flatMap((record, k) => {
        const own = recordEvents(record, 2 * (start + k) + 1);
        for (const e of own) owner.set(e.event.id, outcomes[start + k] as RecordOutcome);
        return own;
      });
      collect(batch.process(events));
      batch.commit();
    }
    const end = runtime.batch();
    collect(end.release());
    collect(end.flush());
    end.commit();
    return outcomes;
  } finally {
    state.close();
  }
}
