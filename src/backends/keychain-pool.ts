/**
 * Keychain item calls run in a worker thread that is retired after a bounded number of accounts.
 *
 * Why: the keychain addon gives every entry its own D-Bus connection (a file descriptor) and
 * Secret Service session, holds them until the entry is garbage-collected and has no close(); it
 * waits on them with select(), which spins once a descriptor passes 1,023. A process that touches
 * N items therefore holds up to N descriptors: a backend move of 1,000 credentials spun at 100 %
 * CPU (issue 28). A worker thread's entries are freed when the worker ends (Node finalizes a
 * worker's native objects when its environment is torn down), so a process that hands its calls
 * to a worker per WORKER_ACCOUNTS accounts never holds more than its own few plus one worker's.
 *
 * keychain-native.ts decides which calls come here (past the process's own first accounts); this module
 * only runs them: one worker at a time, the next started after the last one has ended, calls on
 * it answered in any order by id. It is imported on first use, so a `load` never loads
 * worker_threads.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { VaultError, type ErrorCode } from '../errors.js';

export type ItemOp = 'get' | 'set' | 'delete';
export interface ItemCall {
  op: ItemOp;
  service: string;
  acct: string;
  value?: string | undefined;
}
export type ItemAnswer = string | null | boolean | undefined;
export type ItemReply =
  | { id: number; ok: true; result: ItemAnswer }
  | { id: number; ok: false; code: ErrorCode | undefined; message: string; hint: string | undefined };

/** Accounts one worker serves before it is retired: its connections end with it. */
export const WORKER_ACCOUNTS = 400;

interface Lane {
  bus: string;
  ready: Promise<Worker>;
  accounts: Set<string>;
  pending: Map<number, { resolve: (r: ItemAnswer) => void; reject: (e: unknown) => void }>;
  /** Resolves when the lane has no call left in flight. */
  drained?: () => void;
  dead?: Error;
}

let current: Lane | undefined;
/** The last retired worker's end: the next one starts after it, so two never hold connections at once. */
let retired: Promise<void> = Promise.resolve();
let nextId = 0;

/**
 * The worker's script: tsc's dist/backends/keychain-worker.js, from the CLI's bundle (dist/cli/)
 * and from dist/backends/ alike; from the TypeScript sources (the tests' own imports), the built one.
 */
function workerScript(): string {
  const url = import.meta.url.endsWith('.ts') ? '../../dist/backends/keychain-worker.js' : '../backends/keychain-worker.js';
  return fileURLToPath(new URL(url, import.meta.url));
}

/** Run one call on the current worker (started or replaced as needed). `perWorker` bounds its accounts. */
export function callInWorker(call: ItemCall, bus: string, perWorker: number = WORKER_ACCOUNTS): Promise<ItemAnswer> {
  const key = `${call.service}\0${call.acct}`;
  let lane = current;
  if (lane && (lane.dead || lane.bus !== bus || (!lane.accounts.has(key) && lane.accounts.size >= perWorker))) {
    retire(lane);
    lane = undefined;
  }
  lane ??= current = startLane(bus);
  lane.accounts.add(key);
  const id = ++nextId;
  const mine = lane;
  return new Promise<ItemAnswer>((resolve, reject) => {
    mine.pending.set(id, { resolve, reject });
    mine.ready.then(
      (w) => {
        if (mine.dead) return fail(mine, mine.dead);
        w.ref(); // a call in flight keeps the process alive; an idle worker does not
        w.postMessage({ id, ...call });
      },
      (e: unknown) => fail(mine, e instanceof Error ? e : new Error(String(e))),
    );
  });
}

function startLane(bus: string): Lane {
  const lane: Lane = { bus, accounts: new Set(), pending: new Map(), ready: undefined as unknown as Promise<Worker> };
  lane.ready = retired.then(() => {
    const w = new Worker(workerScript(), { env: { ...process.env }, stdout: false, stderr: false });
    w.unref();
    w.on('message', (r: ItemReply) => settle(lane, w, r));
    w.on('error', (e) => fail(lane, e));
    // Ended, by retire() or by a crash: no call is ever posted to it again.
    w.on('exit', (code) => fail(lane, new Error(`the keychain worker ended (exit code ${code})`)));
    return w;
  });
  return lane;
}

function settle(lane: Lane, w: Worker, r: ItemReply): void {
  const p = lane.pending.get(r.id);
  if (!p) return;
  lane.pending.delete(r.id);
  if (lane.pending.size === 0) {
    w.unref();
    lane.drained?.();
  }
  if (r.ok) p.resolve(r.result);
  else p.reject(new VaultError(r.code ?? 'BACKEND_UNAVAILABLE', r.message, { hint: r.hint }));
}

/** Every call in flight fails; the lane takes no more and is replaced on the next call. */
function fail(lane: Lane, e: Error): void {
  lane.dead ??= e;
  const calls = [...lane.pending.values()];
  lane.pending.clear();
  lane.drained?.();
  for (const p of calls) p.reject(new VaultError('BACKEND_UNAVAILABLE', `cannot reach the OS keychain: ${e.message}`, { hint: 'run the command again', cause: e }));
}

/** No new calls; once those in flight are answered, the worker ends (and its connections with it). */
function retire(lane: Lane): void {
  if (current === lane) current = undefined;
  const drained = lane.pending.size === 0 ? Promise.resolve() : new Promise<void>((r) => (lane.drained = r));
  const prior = retired;
  retired = Promise.all([prior, drained])
    .then(() => lane.ready)
    .then((w) => w.terminate())
    .then(
      () => undefined,
      () => undefined, // a worker that never started, or could not be stopped, holds nothing to wait for
    );
}
