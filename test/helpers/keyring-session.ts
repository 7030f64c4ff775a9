/**
 * A private, throw-away Secret Service for keychain tests (DESIGN.md §10): its own D-Bus session
 * bus and an unlocked gnome-keyring-daemon, both children of this process, with a fresh HOME and
 * XDG dirs in a temporary directory. Nothing touches the developer's real keyring.
 *
 * Why our own bus config rather than `dbus-daemon --session`: the stock session config enables
 * D-Bus activation, so a call that races the daemon's start-up (or an unlock prompt) would spawn
 * a second gnome-keyring or a gcr-prompter we do not own and could leak. With no service dirs
 * nothing is ever activated; an unlock prompt is dismissed at once, which is what a locked test
 * wants. Both daemons run in the foreground so their pids are ours to kill.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { skippedLine } from './tools.js';

const run = promisify(execFile);

export const KEYRING_PROGRAMS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon', 'secret-tool'] as const;
/** What CI must install for these programs (Debian/Ubuntu; on Debian 12 `dbus` pulls in dbus-bin). */
export const KEYRING_PACKAGES = 'dbus gnome-keyring libsecret-tools';

const SECRETS = 'org.freedesktop.secrets';
const DEFAULT_COLLECTION = '/org/freedesktop/secrets/aliases/default';
const PASSWORD = 'test-keyring-password';
const READY_TIMEOUT_MS = 15_000;

export interface KeyringSession {
  /** Pass to child processes (and copy into process.env before the first in-process keychain call). */
  env: Record<string, string>;
  /** The temporary directory holding HOME, XDG dirs and the bus socket; removed by stop(). */
  root: string;
  /** Pids of the daemons still running (dbus-daemon, gnome-keyring-daemon). */
  pids(): number[];
  /** Lock the default collection, as a screen lock or `seahorse` would. */
  lock(): Promise<void>;
  /** Stop and restart gnome-keyring on the same data: it unlocks the login keyring from disk. */
  restart(): Promise<void>;
  /** Stop gnome-keyring on purpose, as a crash would, leaving the bus up. */
  killKeyring(): Promise<void>;
  /** Run a program (secret-tool, dbus-send…) inside the session; rejects on a non-zero exit. */
  exec(file: string, args: string[], input?: string): Promise<string>;
  /**
   * Throw if a daemon exited while the session was meant to be up (not through stop(), restart()
   * or killKeyring()), naming it, its exit code or signal and the end of its stderr. Suites call it
   * in afterEach so a daemon that goes away mid-suite is reported where it happened.
   */
  assertAlive(): void;
  stop(): Promise<void>;
}

export function keyringToolsAvailable(): boolean {
  return KEYRING_PROGRAMS.every(onPath);
}

/**
 * True when the keychain suites can run. Missing programs skip them with a message — except
 * under CI=true, where a skipped keychain suite would hide a broken backend, so it throws.
 */
export function requireKeyringOrSkip(): boolean {
  if (process.platform === 'linux' && keyringToolsAvailable()) return true;
  const missing = KEYRING_PROGRAMS.filter((p) => !onPath(p)).join(', ') || `platform ${process.platform}`;
  const msg = skippedLine(KEYRING_PACKAGES, `keychain tests need ${missing}`);
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${msg}`);
  console.warn(msg);
  return false;
}

export interface KeyringSessionOptions {
  /** The bus's max_connections_per_user (dbus-daemon's built-in default is 256). */
  maxConnectionsPerUser?: number | undefined;
}

export async function startKeyringSession(opts: KeyringSessionOptions = {}): Promise<KeyringSession> {
  const root = mkdtempSync(join(tmpdir(), 'mcp-tokens-keyring-'));
  const dir = (name: string) => {
    const p = join(root, name);
    mkdirSync(p, { mode: 0o700 });
    return p;
  };
  const runtime = dir('run');
  const env: Record<string, string> = {
    HOME: dir('home'),
    XDG_DATA_HOME: dir('data'),
    XDG_CONFIG_HOME: dir('config'),
    XDG_CACHE_HOME: dir('cache'),
    XDG_RUNTIME_DIR: runtime,
    DBUS_SESSION_BUS_ADDRESS: '',
  };
  const children = new Set<ChildProcess>();
  // Daemons that exited without us asking (see assertAlive), and the ones we are stopping.
  const deaths: string[] = [];
  const stopping = new WeakSet<ChildProcess>();
  // Last resort if a test file dies without stop(): never leave daemons behind.
  const onExit = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', onExit);
  let keyring: ChildProcess | undefined;

  const assertAlive = () => {
    if (deaths.length > 0) throw new Error(`keyring session broken: ${deaths.join('; ')}`);
  };

  const exec = async (file: string, args: string[], input?: string): Promise<string> => {
    const childEnv = { ...process.env, ...env };
    try {
      if (input === undefined) return (await run(file, args, { env: childEnv, timeout: 10_000 })).stdout;
      return await new Promise<string>((resolve, reject) => {
        const c = execFile(file, args, { env: childEnv, timeout: 10_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
        c.stdin?.end(input);
      });
    } catch (e) {
      // A failing secret-tool says little; if a daemon died, say that first.
      if (deaths.length > 0 && e instanceof Error) e.message = `${e.message}\n(keyring session broken: ${deaths.join('; ')})`;
      throw e;
    }
  };

  const startKeyring = async () => {
    keyring = track(
      'gnome-keyring-daemon',
      spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'ignore', 'pipe'],
      }),
    );
    keyring.stdin?.end(PASSWORD); // --unlock reads the login password from stdin
    await waitFor('gnome-keyring to own org.freedesktop.secrets', keyring, async () => {
      const out = await exec('dbus-send', [...call(SECRETS, '/org/freedesktop/secrets'), 'org.freedesktop.Secret.Service.ReadAlias', 'string:default']);
      return !/object path "\/"\s*$/.test(out); // "/" means no default collection yet
    });
  };

  const track = (name: string, c: ChildProcess) => {
    children.add(c);
    let err = '';
    c.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    c.once('exit', () => children.delete(c));
    // 'close', not 'exit': by then the last of its stderr has been read.
    c.once('close', (code, signal) => {
      if (stopping.has(c)) return;
      const how = signal === null ? `code ${code}` : `signal ${signal}`;
      deaths.push(`${name} (pid ${c.pid}) exited unexpectedly with ${how} at ${new Date().toISOString()}; stderr: ${err.trim() || '(empty)'}`);
    });
    return c;
  };
  const expectExit = (c: ChildProcess) => {
    stopping.add(c);
    return terminate(c);
  };

  const stop = async () => {
    await Promise.all([...children].reverse().map(expectExit));
    process.removeListener('exit', onExit);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    writeFileSync(join(root, 'bus.conf'), busConfig(join(runtime, 'bus'), opts.maxConnectionsPerUser));
    const bus = track(
      'dbus-daemon',
      spawn('dbus-daemon', [`--config-file=${join(root, 'bus.conf')}`, '--nofork', '--print-address=1'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    env['DBUS_SESSION_BUS_ADDRESS'] = await firstLine(bus);
    await startKeyring();
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    env,
    root,
    pids: () => [...children].flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    exec,
    stop,
    assertAlive,
    killKeyring: async () => {
      if (keyring) await expectExit(keyring);
    },
    lock: async () => {
      await exec('dbus-send', [...call(SECRETS, '/org/freedesktop/secrets'), 'org.freedesktop.Secret.Service.Lock', `array:objpath:${DEFAULT_COLLECTION}`]);
      const out = await exec('dbus-send', [...call(SECRETS, DEFAULT_COLLECTION), 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked']);
      if (!/boolean true/.test(out)) throw new Error(`default collection did not lock: ${out}`);
    },
    restart: async () => {
      if (keyring) await expectExit(keyring);
      await startKeyring();
    },
  };
}

export function onPath(program: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A private session bus's configuration, listening on `socket` (shared with keepassxc-session.ts). */
export function busConfig(socket: string, maxConnectionsPerUser?: number): string {
  const limit = maxConnectionsPerUser === undefined ? '' : `\n  <limit name="max_connections_per_user">${maxConnectionsPerUser}</limit>`;
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>${limit}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

function call(dest: string, path: string): string[] {
  return ['--session', '--print-reply', `--dest=${dest}`, path];
}

/** dbus-daemon prints its address once it listens; give up (with its stderr) if it does not. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address: ${err}`)), READY_TIMEOUT_MS);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(out.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code}): ${err}`)));
  });
}

/** Poll a readiness check every 50 ms, bounded; fail early (with stderr) if the daemon dies. */
async function waitFor(what: string, child: ChildProcess, ready: () => Promise<boolean>): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: daemon exited: ${err}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${err}`);
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process has been reaped. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
