import { isHttpUrl } from './validators.js';
import type { ServiceSpec } from './types.js';

const CLASSIC_RE = /^gh[pousr]_[A-Za-z0-9]{36}$/;
const FINE_GRAINED_RE = /^github_pat_[A-Za-z0-9_]{22}_[A-Za-z0-9_]{59}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

let crcTable: Uint32Array | undefined;
function crc32(text: string): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'latin1')) crc = (crc >>> 8) ^ crcTable[(crc ^ byte) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

/** Base62 CRC32 of a classic token's 30 random characters, left-padded to 6 (GitHub's format). */
export function githubChecksum(random30: string): string {
  let n = crc32(random30);
  let out = '';
  while (n > 0) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(6, '0');
}

export const github: ServiceSpec = {
  name: 'github',
  title: 'GitHub',
  builtin: true,
  fields: [
    {
      key: 'token',
      env: 'GITHUB_PERSONAL_ACCESS_TOKEN',
      secret: true,
      required: true,
      placeholder: '<your_token>',
      description: 'personal access token (classic ghp_… or fine-grained github_pat_…)',
      validate: (v) =>
        CLASSIC_RE.test(v) || FINE_GRAINED_RE.test(v)
          ? undefined
          : 'Invalid GitHub token format: expected ghp_ (or gho_, ghu_, ghs_, ghr_) followed by 36 letters and digits, or a fine-grained github_pat_… token',
      warn: (v) => {
        if (!CLASSIC_RE.test(v)) return undefined;
        const body = v.slice(4);
        return githubChecksum(body.slice(0, 30)) === body.slice(30)
          ? undefined
          : 'this GitHub token may be mistyped: its built-in checksum does not match';
      },
    },
    {
      key: 'api',
      env: undefined,
      secret: false,
      required: false,
      placeholder: 'https://github.example.com/api/v3',
      description: 'API base URL for GitHub Enterprise Server (default https://api.github.com)',
      validate: (v) =>
        isHttpUrl(v) ? undefined : 'Invalid URL format: expected https://host[:port][/path], e.g. https://ghe.example.com/api/v3',
    },
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/github.js').then((m) => m.verifyGithub(values, ctx)),
};
