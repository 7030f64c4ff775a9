/**
 * Signalling a process the tests started, by pid, without hitting a stranger.
 *
 * Linux here has pid_max 32768 and a full suite starts tens of thousands of processes, so pids
 * wrap within a run. A pid recorded minutes ago (an agent that has since locked and exited, a
 * child that should have died with its runner) may belong to another process by the time a
 * cleanup hook signals it: a test once sent SIGTERM to another suite's gnome-keyring-daemon that
 * way, and that suite failed with "Message recipient disconnected from message bus". So a pid is
 * recorded with its start time (field 22 of /proc/<pid>/stat) and signalled only while both match.
 */
import { processStart } from '../../src/vault/lock.js';

export interface Tracked {
  pid: number;
  /** Start time in clock ticks since boot; undefined when the process was already gone. */
  start: string | undefined;
}

/** Record a live process (call while it is known to be the one meant). */
export function track(pid: number): Tracked {
  return { pid, start: processStart(pid) };
}

/**
 * Send `signal` only if the pid still belongs to the process recorded; true when sent. A process
 * that is gone, or whose pid now names another process, is left alone.
 */
export function signalTracked(p: Tracked, signal: NodeJS.Signals): boolean {
  if (p.start === undefined || p.start === '' || processStart(p.pid) !== p.start) return false;
  try {
    process.kill(p.pid, signal);
    return true;
  } catch {
    return false; // exited between the check and the signal
  }
}
