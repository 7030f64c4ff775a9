import { VaultError } from '../errors.js';
import { KEY_BYTES, SALT_BYTES } from './format.js';

export interface KdfParams {
  opslimit: number;
  memlimit: number;
}

const MiB = 1024 * 1024;

/** Presets offered by `init --kdf` (DESIGN.md §5). */
export const KDF_PRESETS = {
  interactive: { opslimit: 2, memlimit: 64 * MiB },
  default: { opslimit: 3, memlimit: 64 * MiB },
  moderate: { opslimit: 3, memlimit: 256 * MiB },
  sensitive: { opslimit: 4, memlimit: 1024 * MiB },
} as const satisfies Record<string, KdfParams>;

export type KdfPreset = keyof typeof KDF_PRESETS;

export function isKdfPreset(name: string): name is KdfPreset {
  return Object.hasOwn(KDF_PRESETS, name);
}

/**
 * The test suite's switch: with this variable set to `1`, every preset costs microseconds instead
 * of half a second (the same opslimit, memlimit / 8192: 8 KiB for interactive and default), and
 * vaults that weak may be opened. It is for the project's own tests only — no option, preset or
 * help text names it — and without it a vault weaker than `interactive` is refused on open
 * (checkKdfFloor) and `doctor` names one as weak. The real presets keep their own tests with the
 * switch unset (test/crypto/kdf.test.ts, the golden fixtures, test/cli/kdf-presets.test.ts).
 */
export const TEST_KDF_VARIABLE = 'MCP_TOKENS_INSECURE_TEST_KDF';

/** Under the switch, a derivation this small runs in this thread (see deriveKey). */
const TEST_INLINE_MEMLIMIT = 1024 * 1024;

export function testKdfEnabled(): boolean {
  return process.env[TEST_KDF_VARIABLE] === '1';
}

/** The Argon2id parameters a preset stands for (cheap ones under the test switch). */
export function presetParams(preset: KdfPreset): KdfParams {
  const p = KDF_PRESETS[preset];
  return testKdfEnabled() ? { opslimit: p.opslimit, memlimit: p.memlimit / 8192 } : { opslimit: p.opslimit, memlimit: p.memlimit };
}

/** True for parameters below the weakest preset a user can choose (interactive). */
export function isWeakKdf(p: KdfParams): boolean {
  return p.opslimit < KDF_PRESETS.interactive.opslimit || p.memlimit < KDF_PRESETS.interactive.memlimit;
}

/**
 * Refuse, on open, a vault whose parameters are weaker than the interactive preset: no command
 * makes one for a user, so it was edited (a downgrade that makes the passphrase cheap to guess)
 * or made by the test suite, whose switch allows it.
 */
export function checkKdfFloor(p: KdfParams, path: string): void {
  if (!isWeakKdf(p) || testKdfEnabled()) return;
  throw new VaultError('INTEGRITY', `integrity check failed: ${path} has KDF parameters weaker than the interactive preset (opslimit ${p.opslimit}, memlimit ${p.memlimit})`, {
    hint: 'no mcp-tokens command creates such a vault: vault.json was changed; restore it from your own backup of the vault directory',
  });
}

/**
 * Refuse, before any KDF work, parameters that are not exactly one of the presets (the only
 * parameters any mcp-tokens command wraps a key with; under the test switch, their cheap
 * variants too). A vault.json edited to other in-range values (say ops 4 with 64 MiB) would
 * otherwise cost one Argon2id run and then read as a wrong passphrase. A change from one preset to
 * another cannot be told from a wrong passphrase without the passphrase: see SECURITY.md.
 */
export function checkKdfPreset(p: KdfParams, path: string): void {
  const known = Object.values(KDF_PRESETS).flatMap((q) => (testKdfEnabled() ? [q, { opslimit: q.opslimit, memlimit: q.memlimit / 8192 }] : [q]));
  if (known.some((q) => q.opslimit === p.opslimit && q.memlimit === p.memlimit)) return;
  throw new VaultError('INTEGRITY', `integrity check failed: vault.json was changed: ${path} has KDF parameters (opslimit ${p.opslimit}, memlimit ${p.memlimit}) that are not a preset mcp-tokens writes`, {
    hint: 'nothing was derived or changed; restore vault.json from your own backup of the vault directory',
  });
}

/** Refuse parameters a tampered vault.json could use to make us burn CPU or memory. */
export function checkKdfParams(p: { opslimit: unknown; memlimit: unknown }): KdfParams {
  const { opslimit, memlimit } = p;
  const max = KDF_PRESETS.sensitive;
  if (!Number.isSafeInteger(opslimit) || (opslimit as number) < 1 || (opslimit as number) > max.opslimit)
    throw badParams('opslimit');
  if (!Number.isSafeInteger(memlimit) || (memlimit as number) < 8192 || (memlimit as number) > max.memlimit)
    throw badParams('memlimit');
  return { opslimit: opslimit as number, memlimit: memlimit as number };
}

function badParams(which: string): VaultError {
  return new VaultError('INTEGRITY', `integrity check failed: vault.json has an out-of-range KDF ${which}`, {
    hint: 'vault.json was changed; restore it from your own backup of the vault directory',
  });
}

/**
 * Argon2id13 of the passphrase; the caller zeroes the returned key when done.
 *
 * It runs in a worker thread that ends afterwards (unless deriveInThisThread was called: a
 * command that ends with its work). WebAssembly memory only ever grows: run in this thread, the
 * KDF's 64 MiB–1 GiB would stay in the process for its whole life, and `run` lives as long as the
 * MCP server it launched. A finished worker's isolate, with its memory, is freed. The passphrase and the key cross by transfer (moved, not copied) and are zeroed on both
 * sides; only the 32-byte key comes back.
 */
export async function deriveKey(passphrase: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  if (salt.length !== SALT_BYTES) throw new Error('bad salt length');
  const { opslimit, memlimit } = checkKdfParams(params);
  // The test suite's kilobytes of Argon2id need no worker to give memory back: this thread's
  // libsodium, without a second WebAssembly start-up (a tenth of a second of CPU per command).
  // Nor does a command that ends with its work (deriveInThisThread).
  if (inThisThread || (testKdfEnabled() && memlimit <= TEST_INLINE_MEMLIMIT)) {
    const s = await (await import('./sodium.js')).libsodium();
    return s.crypto_pwhash(KEY_BYTES, passphrase, salt, opslimit, memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  }
  const worker = spare ?? (await startWorker());
  spare = undefined;
  worker.ref(); // a prewarmed worker was unref'd; this one must keep us alive until it answers
  const pass = new Uint8Array(passphrase); // our own buffer, so it can be moved to the worker
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.once('message', (m: { key?: Uint8Array; error?: string }) =>
        m.key?.length === KEY_BYTES ? resolve(m.key) : reject(kdfFailed(m.error ?? 'no key')),
      );
      worker.once('error', (e) => reject(kdfFailed(e.message, e)));
      worker.once('exit', (code) => reject(kdfFailed(`the worker exited (${code})`)));
      worker.postMessage({ pass, salt: new Uint8Array(salt), opslimit, memlimit, keyBytes: KEY_BYTES }, [pass.buffer]);
    });
  } finally {
    if (pass.buffer.byteLength > 0) pass.fill(0); // still ours only if postMessage never ran
    // Usually ending already; its memory is released as it goes. Unref'd so a command that is
    // done does not wait for that teardown before exiting.
    worker.unref();
    void worker.terminate();
  }
}

let inThisThread = false;

/**
 * From now on derive in this thread, not in a worker: for a command that ends when its work does
 * (`load`, `store`, `list`…; cli/plain.ts `begin`). Its exit gives the KDF's memory back, and it
 * saves the worker's start-up (~25 ms of a file vault's `load`, issue 28). Never for `run`, which
 * lives as long as the server it starts (where it cannot exec it: Node < 22.15).
 */
export function deriveInThisThread(): void {
  inThisThread = true;
}

/** Argon2id's own failures name no secret (typically: not enough memory for the preset). */
function kdfFailed(reason: string, cause?: unknown): VaultError {
  return new VaultError('FAILED', `key derivation (Argon2id) failed: ${reason.slice(0, 200)}`, {
    hint: 'the KDF preset may need more memory than this machine can give (moderate 256 MiB, sensitive 1 GiB)',
    cause,
  });
}

type Worker = import('node:worker_threads').Worker;
let spare: Worker | undefined;

/**
 * Start the next KDF worker now, ahead of need: its start-up and libsodium's load then overlap
 * with whatever this thread does until deriveKey (the CLI calls this first thing for a command
 * that will unlock a file vault). Unref'd, so an unused spare never keeps the process alive.
 */
export async function prewarmKdf(): Promise<void> {
  if (spare || testKdfEnabled()) return;
  if (inThisThread) {
    await (await import('./sodium.js')).libsodium(); // this thread's libsodium, loaded ahead
    return;
  }
  const worker = await startWorker();
  worker.unref();
  worker.once('error', () => {
    if (spare === worker) spare = undefined; // deriveKey will start a fresh one and report
  });
  spare = worker;
}

async function startWorker(): Promise<Worker> {
  // Loaded on use: a keychain vault imports this module but never derives a key.
  const { Worker } = await import('node:worker_threads');
  return new Worker(WORKER_SOURCE, { eval: true, workerData: { sodiumUrl: await sodiumUrl() } });
}

/**
 * The worker, as plain JavaScript: evaluated from a string so it runs the same from dist/ and
 * from TypeScript sources under the test runner (which cannot hand a .ts file to a Worker).
 * libsodium is imported by absolute URL; an eval worker has no module path to resolve from.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loading = import(workerData.sodiumUrl).then(async (m) => { const s = m.default ?? m; await s.ready; return s; });
parentPort.once('message', async ({ pass, salt, opslimit, memlimit, keyBytes }) => {
  try {
    const s = await loading;
    const key = s.crypto_pwhash(keyBytes, pass, salt, opslimit, memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
    pass.fill(0);
    parentPort.postMessage({ key }, [key.buffer]);
  } catch (e) {
    pass.fill(0);
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
  parentPort.close();
});
`;

let resolvedUrl: string | undefined;

/** The ESM build of libsodium-wrappers-sumo, as a file URL the worker can import. */
async function sodiumUrl(): Promise<string> {
  resolvedUrl ??= await resolveSodium();
  return resolvedUrl;
}

async function resolveSodium(): Promise<string> {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (typeof resolve === 'function') {
    try {
      return resolve('libsodium-wrappers-sumo');
    } catch {
      // fall through to require's resolution (the CommonJS build)
    }
  }
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  return pathToFileURL(createRequire(import.meta.url).resolve('libsodium-wrappers-sumo')).href;
}
