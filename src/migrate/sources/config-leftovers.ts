/**
 * Nothing left silently: the secrets of a config that migrate does not move — a server's env
 * entries of no built-in service, tokens in its arguments or headers (strays), and any other
 * credential-shaped string of the file (sweep) — each listed with where it is and what to do.
 */
import type { Node } from 'jsonc-parser';
import { findLast, shadowedProperties } from '../jsonc-edit.js';
import { isSecretName, looksSecret, secretShape } from '../detect.js';
import type { ConfigFormat } from '../formats/index.js';
import { looksLikeCredential } from '../../credential-shape.js';
import { isReference, KNOWN_FIELDS, mask } from '../known.js';
import type { Leftover } from '../types.js';
import type { ConfigLocation } from './config-locations.js';
import type { ServerEntry, Taken } from './config-servers.js';

const BUILTIN_NAMES = [...new Set(KNOWN_FIELDS.map((f) => f.service))].join(', ');

/** What migrate writes between `run` and `--`: services, `--env`, `NAME=service[@instance].key`. */
const RUN_ARG = /^(--env|[a-z][a-z0-9-]*(@[a-z][a-z0-9-]*)?|[A-Za-z_][A-Za-z0-9_]*=[a-z][a-z0-9-]*(@[a-z][a-z0-9-]*)?\.[a-z][a-z0-9-]*)$/;

/** The client's own way to keep a remote server's header out of its config file. */
function headerStep(client: string): string {
  if (client.startsWith('VS Code')) return 'use an "inputs" entry with "password": true and write "${input:<id>}" as the header value (VS Code keeps it in its secret storage)';
  if (client.startsWith('Claude Code')) return `store it (mcp-tokens store <service> token), remove the header and give the server "headersHelper": "mcp-tokens headers <service> --header 'Authorization=Bearer {token}'" (Claude Code runs it for the headers; migrate does this itself for an "http" or "sse" server with no headersHelper of its own); or write "\${VAR}" as the header value and set VAR in the environment Claude Code starts from`;
  if (client.startsWith('Cursor')) return 'write "${env:VAR}" as the header value and set VAR in the environment Cursor starts from';
  if (client.startsWith('Codex')) return 'Codex can read it from its own environment instead (Codex is not started by mcp-tokens, so migrate cannot rewrite this for you): store it (mcp-tokens store <service> token), replace it by `bearer_token_env_var = "VAR"` for an Authorization bearer token, or `env_http_headers = { "Header-Name" = "VAR" }`, and start Codex with VAR set: `mcp-tokens run --env VAR=<service>.token -- codex`, or `eval "$(mcp-tokens load --env VAR=<service>.token)"` in the shell that starts it';
  if (client.startsWith('Gemini')) return 'write "$VAR" as the header value (Gemini CLI expands environment variables in settings.json) and set VAR in the environment Gemini CLI starts from';
  if (client.startsWith('opencode')) return 'write "{env:VAR}" as the header value (opencode substitutes it) and set VAR in the environment opencode starts from';
  return 'remove it from the file by hand if the client can take it another way; otherwise keep the file readable only by you (chmod 600) and rotate the token if it was ever shared';
}

const ARGV_REASON = 'it is in the command line, which other users of this machine can read (ps)';

/**
 * Secrets of a server that migrate does not move: env entries of no built-in service, tokens in
 * `args` (flags, Docker `-e NAME=value`, `--header`), `headers` of remote servers, URLs. Each is
 * listed as left, with what to do.
 */
export function strays(location: ConfigLocation, root: Node, s: ServerEntry, taken: Taken): Leftover[] {
  const out: Leftover[] = [];
  const at = (where: string, value: string, reason: string, step: string): void => {
    out.push({ path: location.path, where: `server '${s.name}' ${where}`, masked: mask(value), reason, step });
  };
  const envKey = s.shape.env;
  for (const { name, value } of s.env) {
    if (taken.env.has(name) || isReference(value)) continue;
    const why = looksSecret(name, value) ?? randomShaped(name, value);
    if (why) {
      at(`${envKey} ${name}`, value, `${why}, not a variable of a built-in service (${BUILTIN_NAMES}); mcp-tokens cannot hold it`,
        'remove it from this file by hand and give it to the server another way (e.g. from your OS keychain in a wrapper script), then rotate it');
    }
  }
  const args = s.args;
  // Already launched through `mcp-tokens run … --`: its own arguments (`--env NAME=service.key`) hold no secret.
  const dd = args.indexOf('--');
  const wrapped = args[0] === 'run' && dd > 0 && args.slice(1, dd).every((a) => RUN_ARG.test(a));
  for (let i = wrapped ? dd + 1 : 0; i < args.length; i++) {
    if (taken.args.has(i)) continue; // moved to the vault (mcp-proxy's header arguments)
    const a = args[i]!;
    const next = args[i + 1];
    const flag = /^(--?[A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/.exec(a);
    if ((a === '-e' || a === '--env') && next !== undefined && next.includes('=')) {
      if (taken.args.has(i + 1)) {
        i++;
        continue;
      }
      const name = next.slice(0, next.indexOf('='));
      const value = next.slice(next.indexOf('=') + 1);
      const why = looksSecret(name, value);
      if (why) {
        at(`args[${i + 1}] (${a} ${name}=…)`, value, `${why}, passed to docker with its value: ${ARGV_REASON}`,
          `write "${a}", "${name}" (no value: docker then takes it from its own environment) and put ${name} in "env"; re-run migrate`);
      }
      i++;
    } else if ((a === '--header' || a === '-H') && next !== undefined) {
      if (taken.args.has(i + 1)) {
        i++;
        continue;
      }
      const colon = next.indexOf(':');
      const name = colon > 0 ? next.slice(0, colon).trim() : '';
      const value = colon > 0 ? next.slice(colon + 1).trim() : next;
      if (isReference(value)) { i++; continue; }
      const why = looksSecret(name || undefined, value) ?? (/^authorization$/i.test(name) && value.length >= 8 ? 'an Authorization header' : undefined);
      if (why) {
        at(`args[${i + 1}] (${a} ${name}: …)`, value, `${why} in a header argument: ${ARGV_REASON}`,
          `write "${a}", "${name}:\${AUTH_HEADER}" (mcp-remote expands variables in args) and put AUTH_HEADER in "env"; re-run migrate`);
      }
      i++;
    } else if (flag && isSecretName(flag[1]!) && (flag[2] ?? next) !== undefined) {
      const value = flag[2] ?? next!;
      if (!isReference(value) && looksSecret(flag[1], value)) {
        at(`args[${flag[2] === undefined ? i + 1 : i}] (${flag[1]})`, value, `a secret passed as ${flag[1]}: ${ARGV_REASON}`,
          'if the server can read it from an environment variable (see its documentation), move it to "env" and re-run migrate; otherwise remove it and rotate the token');
      }
      if (flag[2] === undefined) i++;
    } else {
      const why = secretShape(a);
      if (why) {
        at(`args[${i}]`, a, `${why} in the arguments: ${ARGV_REASON}`,
          'if the server can read it from an environment variable (see its documentation), move it to "env" and re-run migrate; otherwise remove it and rotate the token');
      }
    }
  }
  // Remote servers: headers, URLs (and anything else outside command/args/env). What a later
  // key of the same name overrides is shadowedSecrets' to report.
  const node = findLast(root, s.path);
  const walk = (n: Node | undefined, where: string, header: string | undefined): void => {
    if (!n) return;
    if (n.type === 'string' && typeof n.value === 'string') {
      const value = n.value;
      if (isReference(value)) return;
      if (header !== undefined && where === `headers.${header}` && taken.headers.has(header)) return; // moved to the vault (headersHelper)
      const why = header !== undefined
        ? looksSecret(header, value) ?? (/^authorization$/i.test(header) && value.length >= 8 ? 'an Authorization header' : undefined)
        : looksSecret(where.split('.').at(-1) || undefined, value) ?? randomShaped(where.split('.').at(-1), value) ?? (/[?&](token|key|api_key|apikey|access_token|secret)=[^&\s]{8,}|\/\/[^/@\s]+:[^/@\s]+@/i.test(value) ? 'a credential in a URL' : undefined);
      if (why) {
        const client = location.explicit ? (s.shape.client ?? location.client) : location.client;
        at(where, value, `${why}, sent by ${client} itself (a remote server is not launched by a command mcp-tokens can wrap)`, headerStep(client));
      }
      return;
    }
    const dead = new Set(shadowedProperties(n));
    for (const child of n.children ?? []) {
      if (dead.has(child)) continue;
      if (n.type === 'object') {
        const key = String(child.children?.[0]?.value);
        // Handled above when of the shape read; anything else there is walked.
        const v = child.children?.[1];
        if (where === '' && key === s.shape.env && v?.type === 'object') continue;
        if (where === '' && key === s.shape.args && v?.type === 'array') continue;
        if (where === '' && key === s.shape.command && (s.shape.commandArray ? v?.type === 'array' : v?.type === 'string')) continue;
        const inHeaders = /headers$/i.test(where) || key.toLowerCase() === 'headers';
        walk(child.children?.[1], where ? `${where}.${key}` : key, /headers$/i.test(where) ? key : inHeaders ? undefined : header);
      } else walk(child, where, header);
    }
  };
  walk(node, '', undefined);
  return out;
}

/** Names of identifiers and hashes, whose random-looking values are no secret (userID, sessionUuid). */
function idName(name: string | undefined): boolean {
  return name !== undefined && /(id|uuid|hash|sha|digest|checksum|etag|version|nonce)$/i.test(name);
}

/**
 * A value the recogniser that hides tokens in messages (cli/mask.ts) takes for a credential —
 * a known token format or a long random-looking word — under a name that is not an identifier's.
 * A UUID alone is no credential here (UUIDs are everywhere); under a token name looksSecret says so.
 */
function randomShaped(name: string | undefined, value: string): string | undefined {
  const v = value.trim();
  if (idName(name) || isReference(v) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return undefined;
  return looksLikeCredential(v) ? 'a credential-shaped value (a token format, or long and random)' : undefined;
}

const label = (path: readonly (string | number)[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');

/**
 * Nothing left silently: every string of the file outside the server entries read above (those
 * are addCandidates' and strays') that looks like a credential — by its name or shape
 * (detect.ts), or to the recogniser that hides tokens in messages — is listed with its path in
 * the file. An unknown client shape, a provider API key, a header of a form we do not read: all
 * end here. ~/.claude.json also keeps Claude Code's history (pasted text, ids), so there only
 * names and known token formats count, not "random-looking".
 */
export function sweep(location: ConfigLocation, root: Node, servers: readonly ServerEntry[], format: ConfigFormat): Leftover[] {
  const out: Leftover[] = [];
  const history = location.client.startsWith('Claude Code (user)');
  const inside = (n: Node): boolean => servers.some((s) => n.offset >= s.node.offset && n.offset + n.length <= s.node.offset + s.node.length);
  const visit = (n: Node | undefined, path: (string | number)[], key: string | undefined): void => {
    if (!n || inside(n)) return;
    if (n.type === 'string' && typeof n.value === 'string') {
      const value = n.value;
      if (isReference(value)) return;
      const why = looksSecret(key, value) ?? (history ? undefined : randomShaped(key, value));
      if (why) {
        out.push({
          path: location.path,
          where: `${label(path)} (${format.label} path)`,
          masked: mask(value),
          reason: `${why}, outside any MCP server entry migrate can rewrite (a setting of the client itself, or a server of a form it does not know)`,
          step: path[0] === 'context_servers' && path[2] === 'settings'
            ? `a setting of the Zed extension that starts context server '${String(path[1])}' (the extension reads it; no command here to wrap): replace the extension's server by a custom one ("command", "args") started through mcp-tokens run if the server reads the value from its environment (see its documentation), or keep the file readable only by you (chmod 600)`
            : location.client.startsWith('Goose (secrets.yaml)')
            ? "Goose keeps its extensions' env_keys here when its keyring is off (GOOSE_DISABLE_KEYRING): store the value (mcp-tokens store <service> <key>), delete it here and from the extension's env_keys, and start the extension through mcp-tokens (cmd: mcp-tokens, args: [run, <service>, --, <its command>…]) — or turn Goose's keyring back on and enter it again"
            : "move it out by hand: if the client can read it from an environment variable or its own secret storage, use that (and start the client through 'mcp-tokens run' if it needs the variable); otherwise keep the file readable only by you (chmod 600), and rotate the value if the file was ever shared",
        });
      }
      return;
    }
    if (n.type === 'object') {
      const dead = new Set(shadowedProperties(n)); // shadowedSecrets reports those
      for (const p of n.children ?? []) {
        const k = p.children?.[0]?.value;
        if (typeof k === 'string' && !dead.has(p)) visit(p.children?.[1], [...path, k], k);
      }
    } else if (n.type === 'array') (n.children ?? []).forEach((c, i) => visit(c, [...path, i], key));
  };
  visit(root, [], undefined);
  return out;
}
