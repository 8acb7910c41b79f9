/**
 * Runs records through the whole detection stack `tapwire replay` builds (loadDetection: the rule pack, every
 * stateful detector and the learned tier) and maps each alert back to the record whose events raised it. The learned
 * tier keeps no state, so another model's verdicts (a leave-one-source-out fold's) can replace the shipped model's
 * alerts record by record without running the rest of the stack again.
 */
import type { ContentModel } from '../../detectors/content/model/contentModel.js';
import { ContentModelDetector } from '../../detectors/content/model/contentModelDetector.js';
import type { LabelledRecord } from '../../detectors/content/model/training/labelledRecords.js';
import { EmbeddedStateStore } from '../../detectors/embeddedStateStore.js';
import { EventWork } from '../../detectors/sharedEventWork.js';
import type { McpAlert } from '../../pipeline/types/mcpAlert.js';
import { loadDetection } from '../../service/detectionSetup.js';
import { tierOf } from './evalMetrics.js';
import { recordEvents } from './recordEvents.js';

/** The alerts each record raised. */
export interface RecordOutcome {
  record: LabelledRecord;
  alerts: McpAlert[];
}

const BATCH = 1000;

/** The event-time line of the record at `index` of an eval run (the same in every stack and fold). */
const lineOf = (index: number): number => 2 * index + 1;

/**
 * Records through one fresh stack, in order; `firstIndex` is the index of `records[0]` in the whole run, so event
 * ids and times do not depend on how the run was cut.
 */
export function runStack(records: readonly LabelledRecord[], options: { rules?: string } = {}, firstIndex = 0): RecordOutcome[] {
  const state = new EmbeddedStateStore(':memory:');
  try {
    const { runtime } = loadDetection(state, options.rules ? { rules: options.rules } : {});
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
        const own = recordEvents(record, lineOf(firstIndex + start + k));
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

/** The learned tier's alerts on the record at `index` of the run, from `model`. */
export function learnedTierAlerts(model: ContentModel, record: LabelledRecord, index: number, state: EmbeddedStateStore): McpAlert[] {
  const detector = new ContentModelDetector(model);
  return recordEvents(record, lineOf(index)).flatMap((event) => detector.onEvent(event, { state, now: Date.parse(event['@timestamp']), shared: new EventWork() }));
}

/** `outcome` with its learned-tier alerts replaced by `learned`. */
export function withLearnedAlerts(outcome: RecordOutcome, learned: readonly McpAlert[]): RecordOutcome {
  return { record: outcome.record, alerts: [...outcome.alerts.filter((a) => tierOf(a) !== 'learned'), ...learned] };
}
