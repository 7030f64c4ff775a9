// Floor: the least a Node keychain read can cost — import the addon, read one item, print it.
// Same pin to the Secret Service as the keychain backend, so the two do the same D-Bus work.
import { AsyncEntry } from '@napi-rs/keyring';

const [service, account] = process.argv.slice(2);
const value = await new AsyncEntry(service, account, { linux: { store: 'secret-service' } }).getPassword();
if (value == null) process.exit(3);
process.stdout.write(`${value}\n`);
