/**
 * A private Secret Service for the benchmark, in plain .mjs (the bench runs without a TS loader):
 * its own D-Bus bus and an unlocked gnome-keyring-daemon in a temporary HOME, both children of
 * this process, like test/helpers/keyring-session.ts. The bus config has no service dirs, so
 * nothing is ever D-Bus-activated behind our back and both daemons are ours to stop.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const KEYRING_PROGRAMS = ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon'];

export function onPath(program) {
  return (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Start the bus and the keyring; resolves to { env, stop }. Throws (after cleaning up) on failure. */
export async function startKeyring() {
  const root = mkdtempSync(join(tmpdir(), 'mcp-tokens-bench-keyring-'));
  const dir = (name) => {
    const p = join(root, name);
    mkdirSync(p, { mode: 0o700 });
    return p;
  };
  const runtime = dir('run');
  const env = {
    HOME: dir('home'),
    XDG_DATA_HOME: dir('data'),
    XDG_CONFIG_HOME: dir('config'),
    XDG_CACHE_HOME: dir('cache'),
    XDG_RUNTIME_DIR: runtime,
  };
  const children = [];
  const killAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  process.once('exit', killAll); // never leave daemons behind, even if the bench throws
  const stop = async () => {
    for (const c of children.reverse()) await terminate(c);
    process.removeListener('exit', killAll);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(root, 'bus.conf'), busConfig(join(runtime, 'bus')));
    const bus = spawn('dbus-daemon', [`--config-file=${join(root, 'bus.conf')}`, '--nofork', '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(bus);
    env.DBUS_SESSION_BUS_ADDRESS = await firstLine(bus);
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(keyring);
    keyring.stdin.end('bench-keyring-password'); // --unlock reads the login password from stdin
    await waitReady({ ...process.env, ...env }, keyring);
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, stop };
}

function busConfig(socket) {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <!-- A desktop's session bus (/usr/share/dbus-1/session.conf) sets these; dbus-daemon's built-in
       256 connections per user would stop a move of more than ~250 credentials, which a desktop
       does not (the keychain addon holds one connection per item it touched). -->
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_connections_per_user">100000</limit>
</busconfig>
`;
}

function firstLine(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address')), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(out.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
  });
}

/** The keyring is ready once the default collection alias resolves to a real object. */
async function waitReady(env, keyring) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (keyring.exitCode !== null) throw new Error('gnome-keyring-daemon exited');
    try {
      const { stdout } = await exec(
        'dbus-send',
        ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default'],
        { env, timeout: 5000 },
      );
      if (!/object path "\/"\s*$/.test(stdout)) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for gnome-keyring');
}

async function terminate(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
