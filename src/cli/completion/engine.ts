/**
 * What to offer at the cursor, from the commander program itself (so commands, options and their
 * choices cannot drift from what the CLI accepts) and the names the vault holds (never a value).
 *
 * The shells' scripts (scripts.ts) pass the words after the program name, the last one being the
 * word under the cursor (possibly empty), and print what this returns. Positional arguments are
 * completed by their name in the command's usage: `service`/`services` get service names,
 * `key` the fields of the service named before it, `file` and `<path>`-like option values get the
 * shell's own file completion, and the command after `--` (run, link) the shell's command names.
 */
import type { Command, Option } from 'commander';

export interface Candidate {
  value: string;
  description?: string;
}

export type Completion = { kind: 'words'; items: Candidate[] } | { kind: 'files' } | { kind: 'commands' };

/** Names only: what the completion may know about the vault. */
export interface Names {
  /** Built-in and user service types, with their fields. */
  types: ReadonlyMap<string, { fields: readonly string[]; description: string }>;
  /** Stored service references (`github`, `github@work`) and the keys stored under each. */
  stored: ReadonlyMap<string, ReadonlySet<string>>;
  /** User service names (services.json), for `services remove`. */
  user: readonly string[];
  /** Backup timestamps by entry name (`github_token`), newest first, for `restore --at`. */
  backups: ReadonlyMap<string, readonly string[]>;
}

/** Option values by the option's attribute name, where commander has no choices for them. */
const OPTION_VALUES: Readonly<Record<string, readonly string[]>> = {
  backend: ['auto', 'keychain', 'file'],
};
/** Options whose value is a path: the shell completes file names. */
const PATH_VALUE = /<(path|file)>/;
/** Services that `load` and `verify` also accept as `all`. */
const TAKES_ALL = new Set(['load', 'verify']);

const words = (items: Candidate[]): Completion => ({ kind: 'words', items });
const NONE = words([]);

export function complete(program: Command, args: readonly string[], names: Names): Completion {
  const before = args.slice(0, -1);
  const current = args[args.length - 1] ?? '';
  const path: Command[] = [program];
  const positionals: string[] = [];
  let afterDashes = -1; // words seen after `--`, or -1 before it
  let pending: Option | undefined; // an option waiting for its value
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    const cmd = path[path.length - 1]!;
    if (afterDashes >= 0) {
      afterDashes++;
    } else if (pending) {
      // bash splits `--format=json` into three words; the `=` is not the value.
      if (w !== '=') pending = undefined;
    } else if (w === '--') {
      afterDashes = 0;
    } else if (w.startsWith('-') && w.length > 1) {
      const opt = findOption(path, w.split('=')[0]!);
      if (opt && (opt.required || opt.optional) && !w.includes('=')) {
        // An optional value is taken only when the next word is not an option (as commander does).
        const next = before[i + 1];
        if (opt.required || (next !== undefined && !next.startsWith('-'))) pending = opt;
      }
    } else {
      const sub = positionals.length === 0 ? visibleCommands(cmd).find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
      if (sub) path.push(sub);
      else positionals.push(w);
    }
  }
  const cmd = path[path.length - 1]!;

  if (afterDashes >= 0) return afterDashes === 0 ? { kind: 'commands' } : { kind: 'files' };
  if (pending) return optionValue(pending, current, '', names, positionals);
  if (current.startsWith('--') && current.includes('=')) {
    const eq = current.indexOf('=');
    const opt = findOption(path, current.slice(0, eq));
    if (!opt || !(opt.required || opt.optional)) return NONE;
    return optionValue(opt, current.slice(eq + 1), current.slice(0, eq + 1), names, positionals);
  }
  if (current.startsWith('-')) return filter(options(path), current);

  const subs = visibleCommands(cmd);
  if (subs.length > 0 && positionals.length === 0) {
    const items = subs.map((c) => ({ value: c.name(), description: c.description() }));
    if (cmd === program) items.push({ value: 'help', description: 'display help for a command' });
    return filter(items, current);
  }
  if (cmd.name() === 'help' || (cmd === program && positionals[0] === 'help')) {
    return filter(visibleCommands(program).map((c) => ({ value: c.name() })), current);
  }
  return filter(positional(cmd, positionals, current, names), current);
}

function positional(cmd: Command, positionals: readonly string[], current: string, names: Names): Candidate[] | Completion {
  const args = cmd.registeredArguments;
  const last = args[args.length - 1];
  const arg = args[positionals.length] ?? (last?.variadic ? last : undefined);
  if (!arg) return [];
  if (arg.argChoices) return arg.argChoices.map((value) => ({ value }));
  const name = arg.name();
  const parent = cmd.parent?.name();
  if (name === 'service' || name === 'services') {
    const items = services(names, current);
    if (TAKES_ALL.has(cmd.name())) items.unshift({ value: 'all', description: 'every stored service' });
    return items;
  }
  if (name === 'key') return keys(names, positionals[positionals.length - 1] ?? '');
  if (name === 'name' && parent === 'services' && cmd.name() === 'remove') return names.user.map((value) => ({ value }));
  if (name === 'file') return { kind: 'files' };
  if (name === 'value' && positionals[1] === 'ca') return { kind: 'files' };
  return [];
}

function optionValue(opt: Option, current: string, prefix: string, names: Names, positionals: readonly string[]): Completion {
  // restore <service> <key> --at: that credential's backup timestamps (file names, no value).
  const stamps = opt.attributeName() === 'at' ? names.backups.get(`${positionals[0]}_${positionals[1]}`) : undefined;
  const values = opt.argChoices ?? OPTION_VALUES[opt.attributeName()] ?? stamps;
  if (values) return filter(values.map((v) => ({ value: prefix + v })), prefix + current);
  if (PATH_VALUE.test(opt.flags)) return prefix === '' ? { kind: 'files' } : NONE;
  if (opt.attributeName() === 'services') {
    // --services github,hass: complete the name after the last comma.
    const done = current.slice(0, current.lastIndexOf(',') + 1);
    const items = [{ value: 'all' }, ...services(names, current.slice(done.length))];
    return filter(items.map((c) => ({ ...c, value: prefix + done + c.value })), prefix + current);
  }
  return NONE;
}

/** Service types, and every stored reference (instances included) once. */
function services(names: Names, current: string): Candidate[] {
  const out = new Map<string, Candidate>();
  for (const [value, t] of names.types) out.set(value, { value, description: t.description });
  for (const ref of names.stored.keys()) if (!out.has(ref)) out.set(ref, { value: ref, description: 'stored' });
  // `github@` lists that type's stored instances; nothing can be guessed beyond them.
  if (current.includes('@')) return [...out.values()].filter((c) => c.value.includes('@'));
  return [...out.values()];
}

function keys(names: Names, ref: string): Candidate[] {
  const type = ref.split('@')[0]!;
  const out = new Set(names.types.get(type)?.fields ?? []);
  for (const k of names.stored.get(ref) ?? []) out.add(k);
  return [...out].map((value) => ({ value }));
}

function options(path: readonly Command[]): Candidate[] {
  const out: Candidate[] = [];
  for (const c of [...path].reverse()) {
    for (const o of c.options) {
      if (o.hidden) continue;
      for (const flag of [o.long, o.short]) if (flag) out.push({ value: flag, description: o.description });
    }
  }
  out.push({ value: '--help', description: 'display help' });
  return out;
}

function findOption(path: readonly Command[], flag: string): Option | undefined {
  for (const c of [...path].reverse()) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

function visibleCommands(cmd: Command): Command[] {
  // commander keeps no public "hidden" flag on a command; ours hides none but `__complete`.
  return cmd.commands.filter((c) => !c.name().startsWith('_'));
}

function filter(items: Candidate[] | Completion, current: string): Completion {
  if (!Array.isArray(items)) return items;
  const seen = new Set<string>();
  return words(items.filter((c) => c.value.startsWith(current) && !seen.has(c.value) && seen.add(c.value)));
}
