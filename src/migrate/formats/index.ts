import { extname } from 'node:path';
import { jsonFormat } from './json.js';
import { tomlFormat } from './toml.js';
import { yamlFormat } from './yaml.js';
import type { ConfigFormat } from './types.js';

export type { ConfigFormat, EditOp, FormatId, DataPath } from './types.js';
export { editChecked } from './verify.js';

/** The format of a config file, by its name: .toml, .yaml/.yml, anything else JSON/JSONC. */
export function formatOf(path: string): ConfigFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.toml') return tomlFormat;
  if (ext === '.yaml' || ext === '.yml') return yamlFormat;
  return jsonFormat;
}

export { jsonFormat, tomlFormat, yamlFormat };
