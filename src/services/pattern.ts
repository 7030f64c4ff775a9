/**
 * The `pattern` of a services.json field, bounded. JavaScript's regex engine backtracks, so a
 * pattern like `(a+)+b` takes exponential time (16.7 s for 28 `a`s; values may be 16 KiB), and
 * no engine switch can stop it from the thread it runs in. Two layers:
 *
 * 1. At load, the shapes that make backtracking exponential are refused with a clear error: a
 *    quantifier (`*`, `+`, `{2,}`…) on a group that itself holds a quantifier or an alternation
 *    (`(a+)+`, `(a|aa)*`, `(\w+\s?)*`), backreferences (`\1`, `\k<n>`) and lookaround.
 * 2. Every match runs in a worker thread with a time budget (MATCH_BUDGET_MS); the caller waits
 *    synchronously (Atomics.wait) and a match that overruns is stopped by terminating the worker
 *    and reported as a refused value. This also bounds what (1) lets through, such as polynomial
 *    `a*a*a*a*…` runs, and what `import` validates.
 *
 * The worker is started once per process, only when a user pattern is matched.
 */
import { Worker } from 'node:worker_threads';
import { VaultError } from '../errors.js';

export const MATCH_BUDGET_MS = 1000;
const START_BUDGET_MS = 15_000;

/** Why a pattern is refused at load (shape that can backtrack exponentially), or undefined. */
export function patternProblem(pattern: string): string | undefined {
  interface Frame {
    quantifier: boolean;
    alternation: boolean;
  }
  const stack: Frame[] = [{ quantifier: false, alternation: false }];
  let closed: Frame | undefined; // the group just closed, if the previous token was `)`
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    const top = stack[stack.length - 1]!;
    const q = /^(?:[*+?]|\{(\d+)(?:(,)(\d*))?\})\??/.exec(pattern.slice(i));
    if (q && closed !== undefined) {
      const max = q[0][0] === '?' ? 1 : q[0][0] === '{' ? (q[2] === undefined ? Number(q[1]) : q[3] === '' ? Infinity : Number(q[3])) : Infinity;
      if (max > 1 && (closed.quantifier || closed.alternation)) {
        return `a repeated group that holds ${closed.quantifier ? 'a quantifier' : 'an alternation'} (like (a+)+ or (a|b)*) can take exponential time; write it without nesting, e.g. [ab]* or a[a-z]*`;
      }
    }
    if (q) {
      top.quantifier = true;
      closed = undefined;
      i += q[0].length;
      continue;
    }
    closed = undefined;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return 'a backreference (\\1, \\k<name>) is not allowed: it can take exponential time';
      if ((n === 'p' || n === 'P' || n === 'u') && pattern[i + 2] === '{') i = pattern.indexOf('}', i) + 1;
      else i += n === 'u' ? 6 : n === 'x' ? 4 : n === 'c' ? 3 : 2;
      continue;
    }
    if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '(') {
      if (/^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) return 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not allowed in a pattern';
      stack.push({ quantifier: false, alternation: false });
      const named = /^\(\?<[A-Za-z_$][\w$]*>/.exec(pattern.slice(i));
      i += named ? named[0].length : pattern.startsWith('(?:', i) ? 3 : 1;
      continue;
    }
    if (c === ')') {
      const done = stack.length > 1 ? stack.pop()! : top;
      const parent = stack[stack.length - 1]!;
      parent.quantifier ||= done.quantifier;
      parent.alternation ||= done.alternation;
      closed = done;
      i++;
      continue;
    }
    if (c === '|') top.alternation = true;
    i++;
  }
  return undefined;
}

export type PatternResult = 'match' | 'no-match' | 'timeout';

/** Whether value matches the whole pattern, within MATCH_BUDGET_MS (`'timeout'` beyond it). */
export function matchPattern(pattern: string, value: string, budgetMs = MATCH_BUDGET_MS): PatternResult {
  const w = matcher();
  const state = new Int32Array(new SharedArrayBuffer(4));
  w.postMessage({ pattern, value, state });
  Atomics.wait(state, 0, 0, budgetMs);
  const got = Atomics.load(state, 0);
  if (got === 1) return 'match';
  if (got === 2) return 'no-match';
  // Still running (or it failed to compile, which load already refuses): stop it where it is.
  void w.terminate();
  worker = undefined;
  return 'timeout';
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const compiled = new Map();
parentPort.on('message', ({ pattern, value, state }) => {
  let result = 3;
  try {
    let re = compiled.get(pattern);
    if (!re) compiled.set(pattern, (re = new RegExp('^(?:' + pattern + ')$', 'u')));
    result = re.test(value) ? 1 : 2;
  } catch {}
  Atomics.store(state, 0, result);
  Atomics.notify(state, 0);
});
Atomics.store(workerData, 0, 1);
Atomics.notify(workerData, 0);
`;

let worker: Worker | undefined;

function matcher(): Worker {
  if (worker) return worker;
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: ready, stdout: false, stderr: false });
  w.unref();
  Atomics.wait(ready, 0, 0, START_BUDGET_MS);
  if (Atomics.load(ready, 0) !== 1) {
    void w.terminate();
    throw new VaultError('FAILED', 'the matcher for services.json patterns (a worker thread) did not start', {
      hint: 'the machine may be out of memory or threads; try again',
    });
  }
  worker = w;
  return w;
}
