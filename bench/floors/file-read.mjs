// Floor: the least a file-vault read can cost — libsodium, Argon2id at the vault's parameters
// (in this thread), unwrap the data key, open one entry, print it. Written from the format in
// the header of src/crypto/format.ts, independently of the vault's code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sodiumModule from 'libsodium-wrappers-sumo';

const [dir, service, key] = process.argv.slice(2);
const s = sodiumModule.default ?? sodiumModule;
await s.ready;
const te = new TextEncoder();
const b64 = (t) => new Uint8Array(Buffer.from(t, 'base64'));
const u32 = (n) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; };
const u64 = (n) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return b; };
const lp = (t) => { const b = te.encode(t); return [u32(b.length), b]; };
const cat = (parts) => Uint8Array.from(parts.flatMap((p) => [...p]));

const cfg = JSON.parse(readFileSync(join(dir, 'vault.json'), 'utf8'));
const salt = b64(cfg.kdf.salt);
const pass = te.encode(process.env.MCP_TOKENS_PASSPHRASE ?? '');
const kek = s.crypto_pwhash(32, pass, salt, cfg.kdf.opslimit, cfg.kdf.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
const keyAd = cat([te.encode('mcp-tokens/v1/vault-key'), ...lp(cfg.kdf.alg), salt, u64(cfg.kdf.opslimit), u64(cfg.kdf.memlimit)]);
const dataKey = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, b64(cfg.key.ct), keyAd, b64(cfg.key.nonce), kek);
const blob = JSON.parse(readFileSync(join(dir, `${service}_${key}`), 'utf8'));
// A v2 blob names its key (kid), bound into the AD after the place: "/kid" ‖ u32be(len) ‖ kid.
const entryAd = cat([te.encode('mcp-tokens/v1'), ...lp(service), ...lp(key), ...(blob.kid ? [te.encode('/kid'), ...lp(blob.kid)] : [])]);
const value = s.crypto_aead_xchacha20poly1305_ietf_decrypt(null, b64(blob.ct), entryAd, b64(blob.nonce), dataKey, 'text');
process.stdout.write(`${value}\n`);
