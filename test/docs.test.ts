/**
 * Runnable documentation (CONTRIBUTING.md, "Runnable documentation"). Every shell block of
 * README.md, CONTRIBUTING.md, SECURITY.md and docs/*.md carries a mark on the line before its
 * fence: `<!-- runnable … -->`, run here, or `<!-- not-runnable: reason -->`, shown as it is; a
 * shell block with neither fails, so no unrun command can land. Runnable blocks run in document
 * order, one scratch HOME per document (a file vault, the cheap test KDF, passphrase files, no
 * keychain), with `mcp-tokens` on PATH running this clone's CLI, well-formed fake tokens in the
 * environment, a GitHub API and a Home Assistant on 127.0.0.1, and stand-ins for the programs
 * that would need the network or an account (npx, uvx, gh-mcp, ssh, bao, op, bw, aws). A
 * `<!-- output -->` block after a runnable block is what that block prints, compared here.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubChecksum } from '../src/services/github.js';
import { REPO, cliEnv, ensureBuilt, githubClassic, jwt, passphraseEnv, proxmoxToken, shimBin, tempHome, writePassphraseFile } from './helpers/cli.js';
import { python } from './helpers/pty.js';
import { programPath, requireTools } from './helpers/tools.js';
import { startServer, type TestServer } from './verify/servers.js';

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh', 'fish']);
const RUNNABLE_LANGS = new Set(['sh', 'bash', 'zsh', 'fish']);

interface Runnable {
  kind: 'runnable';
  /** The block's expected exit status (`exit=N`; default 0). */
  exit: number;
  /** `pass-store`: a throw-away GnuPG key and a pass store holding mcp/github, made before the block. */
  passStore: boolean;
  /** Hidden bash lines run before the block (a separate `bash -eo pipefail`), unseen by readers. */
  setup: string;
  /** Typed at the block's prompts on a pseudo-terminal, in order: the prompt text, then a variable's value. */
  answers: Array<{ prompt: string; variable: string }>;
}
type Mark = Runnable | { kind: 'not-runnable'; reason: string } | { kind: 'output'; stream: 'stdout' | 'stderr' };

export interface Block {
  /** Line of the block's first line of code (1-based). */
  line: number;
  lang: string;
  code: string;
  mark?: Mark;
}

function parseMark(lines: string[], at: number): { mark: Mark; end: number } {
  const first = lines[at]!.trim();
  let end = at;
  const body: string[] = [];
  if (!first.endsWith('-->')) {
    for (end = at + 1; end < lines.length && lines[end]!.trim() !== '-->'; end++) body.push(lines[end]!);
    if (end >= lines.length) throw new Error(`line ${at + 1}: the comment is never closed (a line of its own: -->)`);
  }
  const head = first.replace(/^<!--\s*/, '').replace(/\s*-->$/, '');
  const notRunnable = /^not-runnable:\s*(.*)$/.exec(head);
  if (notRunnable) {
    if (notRunnable[1]!.length < 10 || body.length > 0) throw new Error(`line ${at + 1}: not-runnable needs its reason on the same line (<!-- not-runnable: why -->)`);
    return { mark: { kind: 'not-runnable', reason: notRunnable[1]! }, end };
  }
  const output = /^output(?:\s+(stdout|stderr))?$/.exec(head);
  if (output) return { mark: { kind: 'output', stream: (output[1] ?? 'stdout') as 'stdout' | 'stderr' }, end };
  const words = head.split(/\s+/);
  if (words[0] !== 'runnable') throw new Error(`line ${at + 1}: unknown mark '${head}'`);
  const mark: Runnable = { kind: 'runnable', exit: 0, passStore: false, setup: '', answers: [] };
  for (const w of words.slice(1)) {
    const exit = /^exit=(\d+)$/.exec(w);
    if (exit) mark.exit = Number(exit[1]);
    else if (w === 'pass-store') mark.passStore = true;
    else throw new Error(`line ${at + 1}: unknown runnable option '${w}' (exit=N, pass-store)`);
  }
  const setup: string[] = [];
  for (const l of body) {
    const answer = /^answer (.+: )\$([A-Z_][A-Z0-9_]*)$/.exec(l.trim());
    if (answer) mark.answers.push({ prompt: answer[1]!, variable: answer[2]! });
    else if (l.trim().startsWith('answer ')) throw new Error(`line ${at + 1}: an answer reads 'answer <prompt>: $VARIABLE'`);
    else setup.push(l);
  }
  mark.setup = setup.join('\n').trim();
  return { mark, end };
}

/** Every fenced block of a Markdown text with the mark just before it; throws on a malformed document. */
export function parseBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let pending: { mark: Mark; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!);
    if (open) {
      // a fence: skip to its end (a mark inside a fence, e.g. in an example, is text)
      const fence = open[1]!;
      const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(fence) && /^[`~]+$/.test(l.trim()));
      if (end < 0) throw new Error(`line ${i + 1}: the fence is never closed`);
      const lang = open[2]!;
      if (lang === '') throw new Error(`line ${i + 1}: a fence names its language (\`\`\`sh, \`\`\`json, \`\`\`text for output or a file tree)`);
      const block: Block = { line: i + 2, lang, code: lines.slice(i + 1, end).join('\n') };
      if (pending) {
        const m = pending.mark;
        if (m.kind === 'runnable' && !RUNNABLE_LANGS.has(lang)) throw new Error(`line ${pending.line}: a runnable mark must be followed by a sh, bash, zsh or fish fence, not ${lang}`);
        if (m.kind === 'not-runnable' && !SHELL_LANGS.has(lang)) throw new Error(`line ${pending.line}: not-runnable marks a shell block, not ${lang}`);
        if (m.kind === 'output') {
          if (lang !== 'text') throw new Error(`line ${pending.line}: an output mark must be followed by a text fence`);
          if (blocks.at(-1)?.mark?.kind !== 'runnable') throw new Error(`line ${pending.line}: an output block must come right after a runnable block`);
        }
        block.mark = m;
      }
      blocks.push(block);
      pending = undefined;
      i = end;
    } else if (/^<!--\s*(runnable|not-runnable|output)\b/.test(lines[i]!.trim())) {
      const { mark, end } = parseMark(lines, i);
      pending = { mark, line: i + 1 };
      i = end;
    } else if (pending) throw new Error(`line ${pending.line}: a mark must be on the line just before its fence`);
  }
  if (pending) throw new Error(`line ${pending.line}: a mark must be on the line just before its fence`);
  return blocks;
}

/** Shell blocks with neither mark: each must become runnable, or say why it cannot. */
export function unmarkedShellBlocks(blocks: Block[]): Block[] {
  return blocks.filter((b) => SHELL_LANGS.has(b.lang) && b.mark?.kind !== 'runnable' && b.mark?.kind !== 'not-runnable');
}

/** Output as compared: dates and times of day (the run's own) as placeholders, no trailing spaces. */
export function normalizeOutput(s: string): string {
  return s
    .replace(/\r\n/g, '\n')
    .replace(/\b\d{8}T\d{9}Z-[0-9a-f]+\b/g, '<run-id>')
    .replace(/\b\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?\b/g, 'YYYY-MM-DD')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

const DOCS = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const PTY_DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'pty-drive.py');

/**
 * The documents' GitHub token: fixed, so the masks the docs show (`ghp_…` and its last four) can be
 * compared; a well-formed classic token with a correct checksum, not a real one.
 */
const DOC_BODY = 'DocsExampleOnlyNotARealToken00';
export const DOC_GITHUB_TOKEN = `ghp_${DOC_BODY}${githubChecksum(DOC_BODY)}`;

describe('the marks', () => {
  it('parses marks, setup lines and answers, and refuses what is malformed', () => {
    const doc = [
      'a',
      '<!-- runnable -->',
      '```sh',
      'echo 1',
      '```',
      '<!-- output -->',
      '```text',
      '1',
      '```',
      '```sh',
      'not marked',
      '```',
      '<!-- not-runnable: installs system packages -->',
      '```sh',
      'apt-get install x',
      '```',
      '<!-- runnable exit=2 pass-store',
      'touch ~/setup',
      'answer github token: $GITHUB_TOKEN',
      '-->',
      '```bash',
      'echo 2',
      '```',
      '```json',
      '{}',
      '```',
    ].join('\n');
    const blocks = parseBlocks(doc);
    expect(blocks.map((b) => [b.line, b.lang, b.code, b.mark?.kind])).toEqual([
      [4, 'sh', 'echo 1', 'runnable'],
      [8, 'text', '1', 'output'],
      [11, 'sh', 'not marked', undefined],
      [15, 'sh', 'apt-get install x', 'not-runnable'],
      [22, 'bash', 'echo 2', 'runnable'],
      [25, 'json', '{}', undefined],
    ]);
    expect(blocks[4]!.mark).toEqual({ kind: 'runnable', exit: 2, passStore: true, setup: 'touch ~/setup', answers: [{ prompt: 'github token: ', variable: 'GITHUB_TOKEN' }] });
    expect(unmarkedShellBlocks(blocks).map((b) => b.line)).toEqual([11]);

    const refused: Array<[string, RegExp]> = [
      ['<!-- runnable -->\n```json\n{}\n```\n', /must be followed by a sh/],
      ['<!-- runnable -->\n```sh\necho\n', /never closed/],
      ['<!-- runnable -->\ntext\n```sh\necho\n```\n', /just before its fence/],
      ['<!-- runnable -->\n', /just before its fence/],
      ['<!-- not-runnable -->\n```sh\nx\n```\n', /unknown mark/],
      ['<!-- not-runnable: -->\n```sh\nx\n```\n', /needs its reason/],
      ['<!-- not-runnable: a json example -->\n```json\n{}\n```\n', /marks a shell block/],
      ['```sh\nx\n```\n<!-- output -->\n```text\nx\n```\n', /right after a runnable block/],
      ['<!-- runnable -->\n```sh\nx\n```\n<!-- output -->\n```sh\nx\n```\n', /followed by a text fence/],
      ['<!-- runnable fast -->\n```sh\nx\n```\n', /unknown runnable option/],
      ['<!-- runnable\nanswer github token $X\n-->\n```sh\nx\n```\n', /an answer reads/],
      ['<!-- runnable\necho\n', /never closed/],
      ['```\nx\n```\n', /names its language/],
    ];
    for (const [text, error] of refused) expect(() => parseBlocks(text), text).toThrow(error);
    // a mark inside a fence is text
    expect(parseBlocks('````md\n<!-- runnable -->\n```sh\nexample\n```\n````\n').map((b) => b.lang)).toEqual(['md']);
  });

  it('normalizes only dates, run ids and trailing spaces', () => {
    expect(normalizeOutput('github  2026-12-07  0d  \r\nrun 20261207T042859610Z-378ba0 at 2026-12-07T04:28:59.613Z\n')).toBe('github  YYYY-MM-DD  0d\nrun <run-id> at YYYY-MM-DD');
    expect(normalizeOutput('ghp_…x9Zq')).not.toBe(normalizeOutput('ghp_…x9Zr'));
  });

  it.each(DOCS)('%s: every shell block is runnable or says why not', (doc) => {
    const unmarked = unmarkedShellBlocks(parseBlocks(readFileSync(join(REPO, doc), 'utf8')));
    expect(unmarked.map((b) => `${doc}:${b.line}: \`\`\`${b.lang} block with neither <!-- runnable --> nor <!-- not-runnable: why -->\n${b.code}`)).toEqual([]);
  });

  it.each(DOCS)('%s: every relative link points at a file of the repository', (doc) => {
    const text = readFileSync(join(REPO, doc), 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1]!)) continue; // https:, mailto:
      expect(existsSync(join(REPO, dirname(doc), m[1]!)), `${doc}: ${m[1]}`).toBe(true);
    }
  });

  it("every line of every command's --help examples is run by a runnable block, or says why not", () => {
    // one-line `Example:` sections are run as pasted by test/cli/help.test.ts; these are the others
    const notRun: Record<string, string> = {
      'pbpaste | mcp-tokens store github token -': "macOS's clipboard",
      'mcp-tokens run hass proxmox -- node ./my-server.js --verbose': 'a server of your own',
      'mcp-tokens export all --to age1alice… --to age1bob… -o team.age': "placeholders for teammates' recipients",
      'ssh laptop mcp-tokens export github --to "$(mcp-tokens identity)" | mcp-tokens import -': "docs/bundles.md's line the other way round",
      'mcp-tokens import team.age --dry-run': "a teammate's bundle",
      'echo "Please run: mcp-tokens store github token" >&2; exit 1': "docs/shells.md's wrapper prints the seed's own message instead",
      'mkdir -p ~/.local/share/bash-completion/completions && mcp-tokens completion bash > ~/.local/share/bash-completion/completions/mcp-tokens': 'run as pasted by test/cli/help.test.ts',
      'mkdir -p ~/.config/fish/completions && mcp-tokens completion fish > ~/.config/fish/completions/mcp-tokens.fish': 'run as pasted by test/cli/help.test.ts',
    };
    const norm = (l: string) => l.replace(/\s+#.*$/, '').replace(/\s+/g, ' ').trim();
    const run = new Set(DOCS.flatMap((d) => parsedOrNone(d).filter((b) => b.mark?.kind === 'runnable').flatMap((b) => b.code.split('\n').map(norm))));
    const commands = [...spawnSync(process.execPath, [join(REPO, 'bin', 'mcp-tokens.js'), '--help'], { encoding: 'utf8' }).stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(20);
    const unrun: string[] = [];
    for (const cmd of commands) {
      const help = spawnSync(process.execPath, [join(REPO, 'bin', 'mcp-tokens.js'), cmd, '--help'], { encoding: 'utf8' }).stdout;
      for (const section of help.split(/^(?=\S)/m).filter((x) => /^(Examples|Example \(|Install)/.test(x))) {
        for (const line of section.split('\n').slice(1).map((l) => norm(l.replace(/^ {2}(bash|zsh|fish) {2,}/, '')))) {
          if (line === '' || line.startsWith('→') || line in notRun || run.has(line)) continue;
          unrun.push(`${cmd} --help: ${line}`);
        }
      }
    }
    expect(unrun).toEqual([]);
  });

  it('README.md has runnable blocks (the quick start among them) and an output it shows', () => {
    const blocks = parseBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));
    expect(blocks.filter((b) => b.mark?.kind === 'runnable').length).toBeGreaterThanOrEqual(2);
    expect(blocks.some((b) => b.mark?.kind === 'output')).toBe(true);
  });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runProcess(cmd: string, args: string[], env: Record<string, string>, cwd: string, input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a command that exits before reading stdin is not our failure
    child.stdin.end(input ?? '');
  });
}

/** The programs a document's runnable blocks need beyond bash, by Debian package. */
function toolsFor(blocks: Block[]): Array<[string, string[], string]> {
  const need: Array<[string, string[], string]> = [];
  const runnable = blocks.filter((b) => b.mark?.kind === 'runnable');
  if (runnable.some((b) => b.lang === 'zsh')) need.push(['zsh', ['zsh'], 'the zsh blocks of the docs']);
  if (runnable.some((b) => b.lang === 'fish')) need.push(['fish', ['fish'], 'the fish blocks of the docs']);
  if (runnable.some((b) => (b.mark as Runnable).passStore)) need.push(['pass', ['pass', 'gpg'], 'the docs blocks that link to pass']);
  if (runnable.some((b) => /openssl/.test((b.mark as Runnable).setup))) need.push(['openssl', ['openssl'], 'the docs blocks with a certificate']);
  if (runnable.some((b) => (b.mark as Runnable).answers.length > 0) && python() === undefined) need.push(['python3', ['python3'], 'the docs blocks that answer prompts']);
  return need;
}

/**
 * Scripts that play the programs the docs start which would need the network or an account, in
 * `dir`. `env` is the blocks' environment: an MCP server stand-in names the variables it got that
 * are not in it, or that differ from it (what `mcp-tokens run` set), and exits 1 when there are none.
 */
function writeStandIns(dir: string, home: string, env: Record<string, string>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const base = join(dir, '.base-env');
  writeFileSync(base, Object.entries(env).map(([k, v]) => `${k}=${v}`).sort().join('\n') + '\n');
  const header = (what: string) => `#!/bin/sh\n# A stand-in for ${what} (test/docs.test.ts).\n`;
  for (const name of ['npx', 'uvx', 'gh-mcp']) {
    writeFileSync(
      join(dir, name),
      header(`${name} starting an MCP server`) +
        `got=$(env | grep -E '^[A-Za-z_][A-Za-z0-9_]*=' | grep -vE '^(PWD|SHLVL|OLDPWD|_)=' | LC_ALL=C sort | LC_ALL=C comm -23 - '${base}' | sed 's/=.*//' | tr '\\n' ' ')\n` +
        `[ -n "$got" ] || { echo "${name} (stand-in): started without any variable from mcp-tokens" >&2; exit 1; }\n` +
        `echo "${name} (stand-in) $*: started with $got" >&2\n`,
      { mode: 0o700 },
    );
  }
  // secret managers' CLIs: print the documents' token
  for (const name of ['bao', 'op', 'bw', 'aws']) writeFileSync(join(dir, name), header(`${name}, printing a secret`) + `printf '%s\\n' '${DOC_GITHUB_TOKEN}'\n`, { mode: 0o700 });
  // ssh HOST COMMAND…: the command, in a scratch home of the host's own
  writeFileSync(
    join(dir, 'ssh'),
    header('ssh to another machine: the command runs with a home directory of its own') +
      `[ "$1" = -t ] && shift\nhost=$1; shift\nh='${home}'/ssh-"$host"\nmkdir -p "$h" && chmod 700 "$h"\nHOME=$h exec sh -c "$*"\n`,
    { mode: 0o700 },
  );
}

function makePassStore(env: Record<string, string>): void {
  const gnupg = join(env['HOME']!, '.gnupg');
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const gen = spawnSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', 'mcp-tokens docs <docs@example.invalid>', 'default', 'default', 'never'], { env, encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gpg --quick-gen-key: ${gen.stderr}`);
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(spawnSync('gpg', ['--with-colons', '--list-secret-keys'], { env, encoding: 'utf8' }).stdout)![1]!;
  const init = spawnSync('pass', ['init', fpr], { env, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pass init: ${init.stderr}`);
  const ins = spawnSync('pass', ['insert', '--multiline', 'mcp/github'], { env, input: `${DOC_GITHUB_TOKEN}\n`, encoding: 'utf8' });
  if (ins.status !== 0) throw new Error(`pass insert: ${ins.stderr}`);
}

async function runBlock(block: Block, mark: Runnable, env: Record<string, string>, home: string): Promise<Ran> {
  if (mark.setup !== '') {
    const s = await runProcess('bash', ['-eo', 'pipefail', '-c', mark.setup], env, home);
    if (s.code !== 0) return { code: s.code, stdout: s.stdout, stderr: `(the hidden setup failed)\n${s.stderr}` };
  }
  if (mark.passStore) makePassStore(env);
  if (mark.answers.length > 0) {
    const bash = programPath('bash')!;
    const spec = {
      argv: [bash, '-eo', 'pipefail', '-c', block.code],
      env,
      cwd: home,
      timeout: 60,
      steps: mark.answers.map((a) => ({ expect: a.prompt, send: `${env[a.variable] ?? ''}\n` })),
    };
    const r = await runProcess(python()!, [PTY_DRIVER], env, home, JSON.stringify(spec));
    if (r.code !== 0) return r;
    const t = JSON.parse(r.stdout) as { transcript: string; code: number | null; timedOutAtStep: number | null };
    const missed = t.timedOutAtStep === null ? '' : `(no prompt '${mark.answers[t.timedOutAtStep]!.prompt}')\n`;
    return { code: t.timedOutAtStep === null ? t.code : -1, stdout: t.transcript, stderr: missed + t.transcript };
  }
  if (block.lang === 'fish') {
    // fish has no errexit: each line on its own
    let all: Ran = { code: 0, stdout: '', stderr: '' };
    for (const line of block.code.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
      const r = await runProcess('fish', ['--no-config', '-c', line], env, home);
      all = { code: r.code, stdout: all.stdout + r.stdout, stderr: all.stderr + r.stderr };
      if (r.code !== 0) break;
    }
    return all;
  }
  if (block.lang === 'zsh') return runProcess('zsh', ['-f', '-c', `setopt err_exit pipe_fail\n${block.code}`], env, home);
  return runProcess('bash', ['-eo', 'pipefail', '-c', block.code], env, home);
}

/** A document's blocks, or none when it does not parse (the mark tests above then fail, naming the line). */
function parsedOrNone(doc: string): Block[] {
  try {
    return parseBlocks(readFileSync(join(REPO, doc), 'utf8'));
  } catch {
    return [];
  }
}

describe('runnable blocks', () => {
  let github: TestServer;
  let hass: TestServer;
  const hassToken = jwt({ iss: 'docs', iat: 1_700_000_000 });

  beforeAll(async () => {
    ensureBuilt();
    github = await startServer((req) =>
      req.path === '/user' && req.headers.authorization === `Bearer ${DOC_GITHUB_TOKEN}`
        ? { status: 200, headers: { 'x-oauth-scopes': 'repo, read:org', 'x-ratelimit-remaining': '4999' }, body: { login: 'docs-reader' } }
        : { status: 401, body: { message: 'Bad credentials' } },
    );
    hass = await startServer((req) =>
      req.path === '/api/' && req.headers.authorization === `Bearer ${hassToken}` ? { body: { message: 'API running.' } } : { status: 401, body: '401: Unauthorized' },
    );
  });
  afterAll(async () => {
    await github?.close();
    await hass?.close();
  });

  it.for(DOCS.filter((d) => parsedOrNone(d).some((b) => b.mark?.kind === 'runnable')))(
    '%s: every runnable block exits as marked, in order, in one scratch HOME, and prints what the doc shows',
    { timeout: 300_000 },
    async (doc, ctx) => {
      const blocks = parseBlocks(readFileSync(join(REPO, doc), 'utf8'));
      for (const [pkg, programs, what] of toolsFor(blocks)) if (!requireTools(pkg, programs, what)) ctx.skip();
      const home = tempHome('mcpt-docs-');
      const pass = passphraseEnv(home);
      const standIns = join(home, 'stand-ins');
      const env: Record<string, string> = {
        ...cliEnv(home, pass),
        MCP_TOKENS_NEW_PASSPHRASE_FILE: writePassphraseFile(home, 'a new passphrase for the docs', 'new-passphrase-file'),
        GITHUB_TOKEN: DOC_GITHUB_TOKEN,
        DOCS_GITHUB_WORK_TOKEN: githubClassic(),
        DOCS_HASS_TOKEN: hassToken,
        DOCS_PROXMOX_TOKEN: proxmoxToken(),
        DOCS_WIKIJS_TOKEN: jwt(),
        DOCS_GITHUB_API: github.url,
        DOCS_HASS_URL: hass.url,
        SHELL: '/bin/bash',
        TERM: 'dumb',
      };
      env['PATH'] = `${shimBin(home)}:${standIns}:${env['PATH']}`;
      writeStandIns(standIns, home, env);
      try {
        let last: Ran | undefined;
        for (const block of blocks) {
          const where = `${doc}:${block.line}`;
          if (block.mark?.kind === 'runnable') {
            const r = await runBlock(block, block.mark, env, home);
            expect(r.code, `${where}: exit ${r.code}, expected ${block.mark.exit}\n${block.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`).toBe(block.mark.exit);
            last = r;
          } else if (block.mark?.kind === 'output') {
            expect(normalizeOutput(last![block.mark.stream]), `${where}: the ${block.mark.stream} shown is not what the block above prints`).toBe(normalizeOutput(block.code));
          }
        }
      } finally {
        if (existsSync(join(home, '.gnupg'))) spawnSync('gpgconf', ['--kill', 'all'], { env: { ...env, GNUPGHOME: join(home, '.gnupg') }, stdio: 'ignore' });
      }
    },
  );
});
