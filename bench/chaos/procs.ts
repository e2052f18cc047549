/**
 * Processes for the chaos bench: launching them with their output in a log file, and reading
 * the process table from /proc (what `ps` reads) to find children, orphans and CPU use.
 * Linux only, like the faults the bench injects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function log(message: string): void {
  const time = new Date().toISOString().slice(11, 23);
  process.stderr.write(`[chaos ${time}] ${message}\n`);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** A process the bench started (API, worker, redis-server) and may stop again. */
export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  startedAt: number;
  /** Resolves once the process has exited (or failed to start). */
  exited: Promise<Exit>;
  exit?: Exit;
  alive(): boolean;
}

export interface LaunchOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export function launch(
  name: string,
  command: string,
  args: string[],
  options: LaunchOptions,
): Managed {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const managed: Managed = {
    name,
    pid: child.pid ?? -1,
    child,
    startedAt: Date.now(),
    exited: new Promise<Exit>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        managed.exit ??= { code, signal, at: Date.now() };
        resolve(managed.exit);
      };
      child.once('exit', done);
      child.once('error', () => done(null, null));
    }),
    alive: () => managed.exit === undefined && child.exitCode === null && !child.signalCode,
  };
  return managed;
}

/** Sends `signal` and waits up to `ms` for the exit; SIGKILL after that. Seconds it took. */
export async function stopProcess(
  managed: Managed,
  signal: NodeJS.Signals = 'SIGTERM',
  ms = 10_000,
): Promise<{ seconds: number; forced: boolean }> {
  const start = Date.now();
  if (!managed.alive()) return { seconds: 0, forced: false };
  signalPid(managed.pid, signal);
  const exited = await Promise.race([managed.exited.then(() => true), sleep(ms).then(() => false)]);
  if (!exited) {
    signalPid(managed.pid, 'SIGKILL');
    await Promise.race([managed.exited, sleep(5000)]);
  }
  return { seconds: (Date.now() - start) / 1000, forced: !exited };
}

export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** R, S, D, Z (zombie), T… */
  state: string;
  /** user + system CPU time, clock ticks (1/100 s on Linux). */
  cpuTicks: number;
  args: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return {
      pid,
      ppid: Number(rest[1]),
      state: rest[0] ?? '?',
      cpuTicks: Number(rest[11]) + Number(rest[12]),
      args,
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

export function processTable(): ProcInfo[] {
  const table: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProc(Number(entry));
    if (info) table.push(info);
  }
  return table;
}

export function procInfo(pid: number): ProcInfo | undefined {
  return readProc(pid);
}

/** Alive and not a zombie. */
export function running(pid: number): boolean {
  const info = readProc(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Every process below `pid` (children, grandchildren…). */
export function descendants(pid: number, table = processTable()): ProcInfo[] {
  const found: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const info of table) {
      if (info.ppid === parent) {
        found.push(info);
        queue.push(info.pid);
      }
    }
  }
  return found;
}

/** Whether the process's environment holds `marker` (NAME=value): ours, however reparented. */
export function hasMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker);
  } catch {
    return false;
  }
}

/** CPU seconds the processes used over `ms`, by pid. */
export async function cpuOver(pids: number[], ms: number): Promise<Map<number, number>> {
  const before = new Map(pids.map((pid) => [pid, readProc(pid)?.cpuTicks ?? 0]));
  await sleep(ms);
  const used = new Map<number, number>();
  for (const pid of pids) {
    const after = readProc(pid)?.cpuTicks;
    used.set(pid, after === undefined ? 0 : (after - (before.get(pid) ?? 0)) / 100);
  }
  return used;
}
