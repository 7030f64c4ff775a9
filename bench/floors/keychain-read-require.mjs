// The keychain floor with the addon loaded through require instead of import: on Node 20 an ES
// module importing the addon's CommonJS loader costs ~30 ms more CPU (measured), and the CLI loads
// it this way. Shown beside the floor (bench/RESULTS.md); the targets keep the floor they were set on.
import { createRequire } from 'node:module';

const { AsyncEntry } = createRequire(import.meta.url)('@napi-rs/keyring');
const [service, account] = process.argv.slice(2);
const value = await new AsyncEntry(service, account, { linux: { store: 'secret-service' } }).getPassword();
if (value == null) process.exit(3);
process.stdout.write(`${value}\n`);
