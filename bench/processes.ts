/**
 * Every process the benchmark starts is registered here and stopped on the way out — on a
 * normal end, an error, Ctrl-C or SIGTERM — by its own pid (or the process group the
 * benchmark created for it), never by name.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

type Stopper = { name: string; stopNow(): void };
const running = new Set<Stopper>();
let installed = false;

export function onExitStop(name: string, stopNow: () => void): () => void {
  installTraps();
  const entry = { name, stopNow };
  running.add(entry);
  return () => { running.delete(entry); };
}

export function stopEverything(): void {
  for (const s of [...running].reverse()) {
    try { s.stopNow(); } catch { /* already gone */ }
    running.delete(s);
  }
}

function installTraps(): void {
  if (installed) return;
  installed = true;
  process.on('exit', stopEverything);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
      stopEverything();
      process.exit(130);
    });
  }
}

import { freePort } from '../tests/helpers/net.js';

export { freePort };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Peak resident set size of a live process in MiB (VmHWM), or null when it is gone. */
export function peakRssMb(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

let clockTicks: number | null = null;

/** CPU time (user + system) a live process has used so far, in seconds; null when it is gone. */
export function cpuSeconds(pid: number | null): number | null {
  if (!pid) return null;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/**
 * A child in its own process group (detached), output to a log file. Stopping sends SIGTERM
 * to the group, then SIGKILL after `graceMs` — so helpers it forked (php's workers) go too.
 */
export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

export function startChild(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): Child {
  const out = fs.openSync(opts.logFile, 'a');
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const signal = (sig: NodeJS.Signals) => { try { process.kill(-pid, sig); } catch { /* gone */ } };
  const unregister = onExitStop(name, () => signal('SIGKILL'));
  let stopped: Promise<void> | null = null;
  return {
    name, proc, pid, logFile: opts.logFile, exited,
    stop(graceMs = 15_000) {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          signal('SIGTERM');
          const timer = setTimeout(() => signal('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        signal('SIGKILL'); // anything left in its group
        unregister();
      })();
      return stopped;
    },
  };
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
