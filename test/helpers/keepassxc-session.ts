/**
 * KeePassXC as a second, throw-away Secret Service provider (Debian `keepassxc`), headless: a new
 * database whose root group is exposed over D-Bus, a fresh config, its own bus (no activation,
 * like keyring-session.ts) listening at `<root>/run/bus`, so `<root>/run` can play
 * /run/user/<uid>. Steps found on this kind of machine: /work/shared/notes/keepassxc-headless.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { skippedLine } from './tools.js';
import { busConfig, onPath } from './keyring-session.js';

export const KEEPASSXC_PROGRAMS = ['dbus-daemon', 'dbus-send', 'keepassxc', 'keepassxc-cli'] as const;
const PASSWORD = 'kpx-test-database-password';
const READY_TIMEOUT_MS = 20_000;

export interface KeePassXCSession {
  /** DBUS_SESSION_BUS_ADDRESS (and a private HOME/TMPDIR) for children. */
  env: Record<string, string>;
  root: string;
  stop(): Promise<void>;
}

export function requireKeePassXCOrSkip(): boolean {
  const missing = KEEPASSXC_PROGRAMS.filter((p) => !onPath(p));
  if (process.platform === 'linux' && missing.length === 0) return true;
  const msg = skippedLine('keepassxc', `KeePassXC tests need ${missing.join(', ') || `platform ${process.platform}`}`);
  if (process.env['CI'] === 'true') throw new Error(`CI=true and ${msg}`);
  console.warn(msg);
  return false;
}

export async function startKeePassXCSession(): Promise<KeePassXCSession> {
  const root = mkdtempSync(join(tmpdir(), 'mcp-tokens-kpx-'));
  for (const d of ['run', 'tmp', 'home']) mkdirSync(join(root, d), { mode: 0o700 });
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await terminate(c);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const db = join(root, 'db.kdbx');
    const cli = (args: string[], input: string) => execFileSync('keepassxc-cli', args, { input, cwd: root, stdio: ['pipe', 'pipe', 'ignore'], timeout: 30_000 }).toString('utf8');
    cli(['db-create', '-q', '-p', '-t', '100', join(root, 'base.kdbx')], `${PASSWORD}\n${PASSWORD}\n`);
    // KeePassXC serves a collection only for an exposed group: name the root group in the
    // database's custom data ({uuid} form), by an XML round trip.
    let xml = cli(['export', '-q', '-f', 'xml', join(root, 'base.kdbx')], `${PASSWORD}\n`);
    xml = xml.slice(0, xml.indexOf('</KeePassFile>') + '</KeePassFile>'.length);
    const b64 = /<Root>\s*<Group>\s*<UUID>([^<]+)<\/UUID>/.exec(xml)![1]!;
    const hex = Buffer.from(b64, 'base64').toString('hex');
    const uuid = `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}}`;
    xml = xml.replace('</Meta>', `<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>${uuid}</Value></Item></CustomData></Meta>`);
    writeFileSync(join(root, 'db.xml'), xml, { mode: 0o600 });
    cli(['import', '-q', '-p', '-t', '100', join(root, 'db.xml'), db], `${PASSWORD}\n${PASSWORD}\n`);
    const ini = '[General]\nAutoSaveAfterEveryChange=true\n[FdoSecrets]\nEnabled=true\nShowNotification=false\nConfirmAccessItem=false\nConfirmDeleteItem=false\nUnlockBeforeSearch=false\n';
    writeFileSync(join(root, 'config.ini'), ini);
    writeFileSync(join(root, 'local.ini'), ini);
    const bus = join(root, 'run', 'bus');
    writeFileSync(join(root, 'bus.conf'), busConfig(bus));
    const daemon = spawn('dbus-daemon', [`--config-file=${join(root, 'bus.conf')}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(daemon);
    await new Promise<void>((ok, fail) => {
      const t = setTimeout(() => fail(new Error('dbus-daemon printed no address')), READY_TIMEOUT_MS);
      daemon.stdout!.once('data', () => (clearTimeout(t), ok()));
    });
    const env = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus}`, HOME: join(root, 'home'), TMPDIR: join(root, 'tmp') };
    const kpx = spawn('keepassxc', ['--pw-stdin', '--config', join(root, 'config.ini'), '--localconfig', join(root, 'local.ini'), db], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', QT_QPA_PLATFORM: 'offscreen', ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(kpx);
    kpx.stdin!.end(`${PASSWORD}\n`);
    // Ready only once the default collection says it is unlocked: a request before waits for ever
    // on an unlock prompt no one sees.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      let out = '';
      try {
        out = execFileSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.secrets', '/org/freedesktop/secrets/aliases/default', 'org.freedesktop.DBus.Properties.Get', 'string:org.freedesktop.Secret.Collection', 'string:Locked'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString();
      } catch {
        /* not yet */
      }
      if (/boolean false/.test(out)) break;
      if (Date.now() > deadline || kpx.exitCode !== null) throw new Error(`KeePassXC did not serve an unlocked collection (exit ${kpx.exitCode})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { env, root, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}



/** SIGTERM, then SIGKILL after 3 s (KeePassXC may ignore SIGTERM once its bus is gone). */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
