/**
 * One interface per file format (STYLE.md 15): a client config is parsed to plain data and
 * edited by paths, and each implementation keeps every byte it is not asked to change (comments,
 * order, quoting, indentation). Client records (sources/configs.ts) sit on top and never see the
 * syntax.
 */
export type FormatId = 'json' | 'toml' | 'yaml';

export type DataPath = readonly (string | number)[];

/**
 * One change: remove the value at `path`, or set it to a string or a list of strings. A set of a
 * key that is missing adds it (after the key `after`, where the format places keys).
 */
export type EditOp = { path: DataPath; remove: true } | { path: DataPath; value: string | readonly string[]; after?: string };

export type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

export interface ConfigFormat {
  id: FormatId;
  /** 'JSON', 'TOML', 'YAML': for messages. */
  label: string;
  parse(text: string): Parsed;
  /**
   * The text with `ops` applied, or a throw when the format cannot make them without changing
   * anything else. `scope` is the path of the entry the ops belong to (for the byte guard).
   */
  edit(text: string, ops: readonly EditOp[], scope: DataPath): string;
}
