import { Command } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkCreateVault, globals, openVault, vaultDir } from '../context.js';
import { info, json, warn } from '../output.js';

const collect = (v: string, prev: string[]) => [...prev, v];

export const migrate = new Command('migrate')
  .description('move plaintext tokens (old script files, env, .env files, MCP client configs) into the vault')
  .option('--dry-run', 'show the plan (values masked) after every check the real run makes; change nothing; exit as the real run would')
  .option('--undo [run-id]', 'restore the files a migrate run changed, byte for byte (default: the latest run whose changes are in place)')
  .option('--history', 'list the migrate runs that changed files, with their ids and state')
  .option('--overwrite', 'replace vault values that differ from the plaintext (the old value is backed up)')
  .option('--env-file <path>', 'also read this .env file (repeatable; one inside a repository is untrusted like a project config)', collect, [])
  .option('--config <path>', 'also read this MCP client config (repeatable)', collect, [])
  .option('--no-client-configs', "skip the MCP clients' usual config files")
  .option('--no-projects', 'skip the project configs of the projects listed in ~/.claude.json')
  .option('--trust-project', "let project configs (.mcp.json, .vscode/mcp.json of a folder) and --env-file files inside a repository set the services' own fields (default: their values go to an instance named after the project)")
  .option('--shell-rc', 'remove export lines from shell rc files (default: only report them)')
  .option('--run-command <cmd>', "command written into rewritten configs (default: mcp-tokens when it is on PATH, else this CLI's absolute path, with a warning)", 'mcp-tokens')
  .option('--force', 'with --undo: also restore files edited since the migration')
  .option('--json', 'machine-readable plan or result on stdout')
  .addHelpText(
    'after',
    `
Sources: the old script's plaintext files in ~/.mcp_tokens (and its backups), the seed's
environment variables, .env files given with --env-file, and the MCP configs of Claude Desktop,
Claude Code (.mcp.json, ~/.claude.json), VS Code (mcp.json, settings.json), Cursor, Windsurf,
Gemini CLI, Codex (TOML), Zed, Goose and Continue (YAML), opencode, Cline, Roo Code, Kiro,
Amazon Q, LM Studio, Warp and Copilot CLI (see 'mcp-tokens clients' for the files found). Each value is stored, read back and compared before its plaintext is removed; each
server entry is rewritten to start through 'mcp-tokens run <service> -- <original command>', or
with '--env NAME=service.key' for the names it read, so it gets exactly the variables it had; a
second account of a service becomes an instance (github@<server>), a server of no built-in
service a service of your own named after it, and a project config's values an instance named
after the project (--trust-project lets them set the service's own fields); every changed file
is backed up (encrypted) first. A Claude Code remote server's credential header moves to the
vault too: the header leaves the entry, whose "headersHelper" becomes the command
mcp-tokens headers <service> --header "Authorization=Bearer {token}" (see 'mcp-tokens headers
--help'); other clients' headers are listed as left with the client's own way. Values that differ from the vault (conflicts) or fail
validation are reported and left where they are. Export lines in shell rc files are reported
with file and line; --shell-rc removes them. Secrets it cannot move (tokens in args or headers,
commented-out lines) are listed at the end with why and what to do; the exit
code is 1 while any plaintext secret is left. Under each rewritten server the plan says how it
will unlock when its client starts it (keychain, the unlock agent running now, a passphrase
file in its env), or that it will fail from a desktop launcher and what to do. A config, .env
or rc file that is a symlink is followed only to a file of your own in a folder others cannot
write (the target is rewritten, the link stays; both paths are shown); where a JSON key appears
twice, the last one (the one clients use) is migrated and every copy removed. Every run has
an id: --history lists them, --undo <id> undoes one.`,
  )
  .action(async function (this: Command, opts: MigrateOptions) {
    const m = await import('../../migrate/index.js');
    const { Vault } = await import('../../vault/vault.js');
    const { vaultMigrationTarget } = await import('../../vault/migration-target.js');
    const dir = vaultDir(globals(this));

    if (opts.history) {
      if (!Vault.exists(dir)) {
        if (opts.json) json([]);
        else info('No migrate run changed a file yet.');
        return;
      }
      const vault = await openVault(this);
      try {
        const runs = await m.listRuns(vaultMigrationTarget(vault));
        if (opts.json) json(runs);
        else if (runs.length === 0) info('No migrate run changed a file yet.');
        else {
          for (const r of runs) {
            info(`${r.runId}  ${r.startedAt}  ${r.state}  (${r.files.length} file${r.files.length === 1 ? '' : 's'})`);
            for (const f of r.files) info(`    ${f.state.padEnd(12)} ${f.link !== undefined ? `${f.link} → ${f.path}` : f.path}`);
          }
          info("Undo one with: mcp-tokens migrate --undo <run-id>");
        }
      } finally {
        vault.close();
      }
      return;
    }

    if (opts.undo !== undefined) {
      const vault = await openVault(this);
      try {
        const runId = typeof opts.undo === 'string' ? opts.undo : undefined;
        const r = await m.undoMigration(vaultMigrationTarget(vault), { force: opts.force === true, ...(runId ? { runId } : {}) });
        if (opts.json) json(r);
        else if (!r.runId) info('No migration to undo: no run has changes in place (see mcp-tokens migrate --history).');
        else {
          info(`Undoing migrate run ${r.runId}:`);
          for (const f of r.files) info(`  ${f.outcome.padEnd(9)} ${f.link !== undefined ? `${f.link} → ${f.path}` : f.path}${f.reason ? `: ${f.reason}` : ''}`);
        }
        if (!r.ok) process.exitCode = 1;
      } finally {
        vault.close();
      }
      return;
    }

    // Entries that name a command which will start: this CLI's absolute path when `mcp-tokens` is not on the PATH.
    const { chooseRunCommand } = await import('../run-command.js');
    const runCommand = chooseRunCommand({ given: opts.runCommand, explicit: this.getOptionValueSource('runCommand') === 'cli', path: process.env['PATH'], platform: process.platform, script: process.argv[1] });
    const planOpts: import('../../migrate/index.js').PlanOptions = {
      home: homedir(),
      cwd: process.cwd(),
      platform: process.platform,
      env: process.env,
      legacyDir: dir,
      // A vault elsewhere: the rewritten entries must open it, and the client passes no --dir on.
      ...(resolve(dir) !== join(homedir(), '.mcp_tokens') ? { vaultDir: resolve(dir) } : {}),
      // Absolute paths: the undo journal must name the exact file, wherever undo runs from.
      envFiles: opts.envFile.map((f) => resolve(f)),
      configs: opts.config.map((f) => resolve(f)),
      clientConfigs: opts.clientConfigs,
      projects: opts.projects,
      shellRc: opts.shellRc === true,
      overwrite: opts.overwrite === true,
      trustProject: opts.trustProject === true,
      runCommand: runCommand.command,
    };
    // A dry run against a vault that does not exist yet makes every check creating it would make
    // (backend, folder, passphrase source: same refusal, same exit code), writes nothing, and
    // compares with "nothing stored".
    const exists = Vault.exists(dir);
    const toCreate = !exists && opts.dryRun ? await checkCreateVault(this) : undefined;
    const vault = toCreate ? undefined : await openVault(this, { create: true });
    try {
      const target = vault ? vaultMigrationTarget(vault) : emptyTarget();
      // How each rewritten server will open the vault when its client starts it (a quick local
      // check for an agent; never a prompt). A vault this run creates has no agent yet.
      const backend = vault?.backendName ?? toCreate!.backend;
      const access = await m.vaultAccess({ dir, backend, exists: vault !== undefined && vault.created === undefined, home: homedir() });
      const plan = await m.planMigration(target, { ...planOpts, access });
      if (runCommand.warning && plan.files.some((f) => f.servers.some((sv) => sv.launch.length > 0 || sv.headers !== undefined))) warn(runCommand.warning);
      if (opts.dryRun || plan.pending === 0) {
        const data = m.planToJSON(plan);
        if (opts.json) json(data);
        else for (const line of [...m.describePlan(plan), ...m.describeUnlockSummary(plan.files)]) info(line);
        if (opts.dryRun && plan.pending > 0) info('Dry run: nothing was changed. Run without --dry-run to apply.');
        // Nothing to do but plaintext left (conflicts, unknown secrets…) is not success; the dry
        // run exits as the real run would.
        if (data.left.length > 0) process.exitCode = 1;
        return;
      }
      if (!opts.json) for (const line of m.describePlan(plan)) info(line);
      const result = await m.applyMigration(plan, target);
      if (opts.json) json(result);
      else {
        info(`Stored ${result.stored.length} value${result.stored.length === 1 ? '' : 's'}; imported ${result.backupsImported} old backup${result.backupsImported === 1 ? '' : 's'}.`);
        for (const f of result.files) info(`  ${f.outcome.padEnd(17)} ${f.path}${f.target !== undefined ? ` → ${f.target}` : ''}${f.reason ? `: ${f.reason}` : ''}`);
        for (const f of result.failed) warn(`${f.service} ${f.key} was not migrated: ${f.error} (its plaintext is untouched)`);
        if (result.files.length) info(`Undo the file changes with: mcp-tokens migrate --undo ${result.runId}`);
        for (const line of m.describeLeft(result.left)) info(line);
        info(result.left.length ? `Summary: ${result.left.length} plaintext secret${result.left.length === 1 ? ' is' : 's are'} left (listed above).` : 'Summary: no plaintext secret is left.');
        const rewritten = new Set(result.files.filter((f) => f.outcome === 'rewritten').map((f) => f.path));
        for (const line of m.describeUnlockSummary(plan.files.filter((f) => rewritten.has(f.path)))) info(line);
      }
      if (!result.ok || result.left.length > 0) process.exitCode = 1;
    } finally {
      vault?.close();
    }
  });

interface MigrateOptions {
  dryRun?: boolean;
  undo?: boolean | string;
  history?: boolean;
  overwrite?: boolean;
  envFile: string[];
  config: string[];
  clientConfigs: boolean;
  projects: boolean;
  shellRc?: boolean;
  trustProject?: boolean;
  runCommand: string;
  force?: boolean;
  json?: boolean;
}

function emptyTarget(): import('../../migrate/types.js').MigrationTarget {
  const none = async (): Promise<never> => {
    throw new Error('a dry run writes nothing');
  };
  return {
    get: async () => undefined,
    store: none,
    importBackup: none,
    readBackup: none,
    saveFileBackup: none,
    listFileBackups: async () => [],
    readFileBackup: none,
  };
}
