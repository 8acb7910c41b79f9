/**
 * CPU time from /proc, for benchmarks on a machine other work shares: a process's user + system seconds, the busy
 * seconds of the whole machine, and the PIDs of the engines scripts/services.sh started. Wall-clock rates there move
 * with everyone else's load; CPU seconds per unit of work do much less.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Where scripts/services.sh keeps the engines' PID files when run as root (its default).
const SERVICES_RUN = process.env.TAPWIRE_SERVICES_RUN ?? '/var/tmp/tapwire-services';
// USER_HZ, 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
export function processCpu(pid: number | null | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
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
