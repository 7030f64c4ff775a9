/** The variable names a credential may never set, and the `--env` reference parser. */
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../src/errors.js';
import { checkExportName, credentialShaped, derivedNameProblem, unsafeExportName } from '../../src/launch/env-names.js';
import { parseEnvMapping, parseEnvMappings } from '../../src/launch/env-map.js';
import { buildEnv } from '../../src/launch/env.js';
import { BUILTIN_SERVICES, serviceSpec } from '../../src/services/index.js';

const DANGEROUS = [
  'PATH', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'NODE_OPTIONS', 'NODE_PATH',
  'NODE_EXTRA_CA_CERTS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'BASH_ENV', 'ENV', 'PERL5OPT', 'PERL5LIB', 'RUBYOPT',
  'RUBYLIB', 'GIT_CONFIG_GLOBAL', 'GIT_EXEC_PATH', 'GIT_SSH_COMMAND', 'GIT_CONFIG_COUNT', 'IFS', 'SHELLOPTS', 'MCP_TOKENS_DIR',
  'MCP_TOKENS_PASSPHRASE', 'MCP_TOKENS_ANYTHING', 'JAVA_TOOL_OPTIONS', 'HTTPS_PROXY', 'SSL_CERT_FILE', 'NPM_CONFIG_REGISTRY',
  'UV_INDEX_URL', 'PIP_INDEX_URL', 'BASH_FUNC_X%%', 'HOME', 'EDITOR',
];

describe('dangerous variable names', () => {
  it.each(DANGEROUS)('%s is refused', (name) => {
    expect(unsafeExportName(name)).toBeDefined();
    expect(() => checkExportName(name, '--env')).toThrow(/Refusing the variable name/);
  });

  it.each(['lower', 'A-B', '1ABC', 'A B', '', 'É', 'A\nB'])('%j is not an upper-case portable name', (name) => {
    expect(unsafeExportName(name)).toMatch(/A-Z, 0-9 and _/);
  });

  it.each(['GITHUB_TOKEN', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'API_ACCESS_TOKEN', 'HA_TOKEN', 'HA_URL', 'PROXMOX_TOKEN_VALUE', '_X'])(
    '%s is allowed',
    (name) => expect(unsafeExportName(name)).toBeUndefined(),
  );

  it("a user-defined service whose derived name is dangerous is not exported (ld + preload → LD_PRELOAD)", () => {
    let err: unknown;
    try {
      buildEnv(serviceSpec('ld', ['preload']), { preload: '/tmp/evil.so' });
    } catch (e) {
      err = e;
    }
    expect(isVaultError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toContain('Refusing to export LD_PRELOAD for ld');
    expect((err as Error).message).not.toContain('/tmp/evil.so');
  });
});

describe('names derived for undeclared services (allow, then deny)', () => {
  it.each(['OPENAI_API_KEY', 'SLACK_BOT_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'MY_SVC_PAT', 'X_CLIENT_SECRET', 'X_SESSION_COOKIE'])(
    '%s has a credential shape and is exported',
    (name) => {
      expect(credentialShaped(name)).toBe(true);
      expect(derivedNameProblem(name)).toBeUndefined();
    },
  );

  it.each(['MYAPP_URL', 'DOCKER_HOST', 'VAULT_ADDR', 'OPENAI_BASE_URL', 'AWS_ENDPOINT_URL', 'AWS_PAGER', 'X_PORT', 'X_USER', 'JWT_PUBLIC_KEY', 'X_PUBKEY', 'X_TOKEN_FILE'])(
    '%s is not derived',
    (name) => expect(derivedNameProblem(name)).toBeDefined(),
  );

  it('credential-shaped names on the refused list stay refused (NODE_AUTH_TOKEN, MCP_TOKENS_X_KEY, GIT_TOKEN)', () => {
    for (const name of ['NODE_AUTH_TOKEN', 'MCP_TOKENS_X_KEY', 'GIT_TOKEN', 'NPM_CONFIG__AUTH']) {
      expect(credentialShaped(name)).toBe(true);
      expect(derivedNameProblem(name)).toBe(unsafeExportName(name));
      expect(derivedNameProblem(name)).toBeDefined();
    }
  });

  it('every built-in variable passes the refused list', () => {
    for (const s of BUILTIN_SERVICES) for (const f of s.fields) if (f.env) expect(unsafeExportName(f.env), f.env).toBeUndefined();
  });
});

describe('--env references', () => {
  it('parses NAME=service.key and NAME=service@instance.key', () => {
    expect(parseEnvMapping('API_ACCESS_TOKEN=hass.token')).toEqual({ name: 'API_ACCESS_TOKEN', service: 'hass', key: 'token' });
    expect(parseEnvMapping('GITHUB_TOKEN=github@work.token')).toEqual({ name: 'GITHUB_TOKEN', service: 'github@work', key: 'token' });
  });

  it.each(['X', 'X=', 'X=github', '=github.token', 'X=.token', 'X=github.', 'X=git hub.token', 'X=github@.token', 'X=a@b@c.key', 'X=github.to.ken'])(
    '%j is refused as a usage error',
    (arg) => {
      let err: unknown;
      try {
        parseEnvMapping(arg);
      } catch (e) {
        err = e;
      }
      expect(isVaultError(err)).toBe(true);
      expect((err as { exitCode: number }).exitCode).toBe(2);
    },
  );

  it('refuses one variable given twice', () => {
    expect(() => parseEnvMappings(['T=github.token', 'T=hass.token'])).toThrow(/--env sets T twice/);
  });
});
