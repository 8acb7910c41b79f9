/**
 * CPU time from /proc, for benchmarks on a machine other work shares: a process's user + system seconds, the busy
 * seconds of the whole machine, and the PIDs of the engines scripts/services.sh started. Wall-clock rates there move
 * with everyone else's load; CPU seconds per unit of work do much less.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Where scripts/services.sh keeps the engines' PID files when run as root (its default).
const SERVICES_RUN = process.env.TAPWIRE_SERVICES_RUN ?? '/var/tmp/tapwire-services';
// USER_HZ, 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
export function processCpu(pid: number | null | undefined): number {
  return pid ? statCpu(`/proc/${pid}/stat`) : 0;
}

/** CPU seconds of a process's main thread alone (a Node process's JavaScript thread, without its workers). */
export function mainThreadCpu(pid: number | null | undefined): number {
  return pid ? statCpu(`/proc/${pid}/task/${pid}/stat`) : 0;
}

/** CPU seconds of a process and its direct children (nginx's master and workers). */
export function processTreeCpu(pid: number | null | undefined): number {
  if (!pid) return 0;
  let total = processCpu(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (statFields(`/proc/${entry}/stat`)[1] === String(pid)) total += processCpu(Number(entry));
  }
  return total;
}

/** The fields of a /proc stat file after the command name (state first); empty once the process is gone. */
function statFields(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  } catch {
    return [];
  }
}

function statCpu(file: string): number {
  const fields = statFields(file);
  return fields.length ? (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS : 0;
}

/** Busy CPU seconds of the whole machine (all cores) so far. */
export function machineBusy(): number {
  const [, ...ticks] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((sum, t) => sum + t, 0) - idle) / CLOCK_TICKS;
}

function pidIn(file: string): number | undefined {
  try {
    return Number(readFileSync(join(SERVICES_RUN, file), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The PIDs of the Kafka and Elasticsearch JVMs scripts/services.sh started, where it recorded them. */
export function enginePids(): { kafka: number | undefined; elasticsearch: number | undefined } {
  return { kafka: pidIn('kafka/kafka.pid'), elasticsearch: pidIn('elasticsearch/es.pid') };
}

/** This process's CPU seconds since `since` (process.cpuUsage()). */
export function ownCpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}
