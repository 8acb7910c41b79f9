/**
 * The host session groups every MCP server one host process (Claude Desktop, an IDE, an agent) runs:
 * host name + the host's pid + the host's start time, so a recycled pid never merges two hosts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface HostSession {
  id: string;
  hostPid: number;
  /** ISO start time of the host process, when it could be read. */
  hostStart?: string;
}

interface ProcInfo {
  ppid: number;
  startTicks: number;
  comm: string;
  cmdline: string[];
}

/** Programs that hosts use to launch servers; the host is the first ancestor that is none of these. */
const LAUNCHERS = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'env', 'npm', 'npx', 'npm exec', 'pnpm', 'yarn', 'bunx', 'uv', 'uvx', 'timeout', 'nohup', 'tapwire']);
const NODE_LAUNCHER_SCRIPTS = /(?:npm-cli|npx-cli|pnpm|yarn)(?:\.c?js)?$/;

function readProc(pid: number): ProcInfo | undefined {
  try {
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(rest[1]), startTicks: Number(rest[19]), cmdline };
  } catch {
    return undefined;
  }
}

function isLauncher(info: ProcInfo): boolean {
  if (LAUNCHERS.has(info.comm)) return true;
  return (info.comm === 'node' || info.comm.startsWith('node')) && info.cmdline.slice(1, 3).some((arg) => NODE_LAUNCHER_SCRIPTS.test(arg));
}

/** Linux boot time in epoch ms and USER_HZ, to turn /proc start ticks into a wall-clock time. */
function bootClock(): { bootMs: number; hz: number } | undefined {
  try {
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every mainstream Linux architecture; getconf is the authority when present.
    let hz = 100;
    try {
      hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 100;
    } catch {
      // keep 100
    }
    return Number.isFinite(btime) ? { bootMs: btime * 1000, hz } : undefined;
  } catch {
    return undefined;
  }
}

function psStartTime(pid: number): number | undefined {
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const ms = Date.parse(started);
    return Number.isNaN(ms) ? undefined : ms;
  } catch {
    return undefined;
  }
}

/**
 * The host session of the process that started this one. TAPWIRE_HOST_SESSION overrides it, for
 * launchers that know better (a wrapper that starts several taps for one host).
 */
export function currentHostSession(parentPid = process.ppid): HostSession {
  const override = process.env.TAPWIRE_HOST_SESSION;
  if (override) return { id: override, hostPid: parentPid };
  let pid = parentPid;
  let info = readProc(pid);
  for (let hops = 0; info && isLauncher(info) && info.ppid > 1 && hops < 8; hops++) {
    const parent = readProc(info.ppid);
    if (!parent) break;
    pid = info.ppid;
    info = parent;
  }
  const clock = info ? bootClock() : undefined;
  const start = info && clock ? clock.bootMs + Math.round((info.startTicks * 1000) / clock.hz) : psStartTime(pid);
  const hostStart = start === undefined ? undefined : new Date(start).toISOString();
  return { id: `${hostname()}/${pid}/${start ?? 'unknown'}`, hostPid: pid, ...(hostStart ? { hostStart } : {}) };
}
