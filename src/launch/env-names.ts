/**
 * Which variable names mcp-tokens will set from a stored value: allow, then deny (STYLE.md 16).
 *
 * Allow. A name is exported only because the user declared it on this machine — the built-in
 * service table, `services.json` / `services add`, or `--env` — or because it is derived for a
 * service nobody declared (`store openai api-key` → OPENAI_API_KEY, a bundle's or a link's
 * service) and has a credential's shape: its last word is TOKEN, KEY, SECRET, PASSWORD… A derived
 * name never names an address, a file or a program (`docker host` → DOCKER_HOST, `aws pager` →
 * AWS_PAGER), so data that arrived from elsewhere cannot decide where traffic goes or what runs.
 *
 * Deny. Whoever gave it, a name that changes what code a program runs, where it loads code or
 * configuration from, whom it trusts or where a general-purpose tool's traffic goes is refused
 * wherever a name is given (`--env`, services.json, `services add`, `import`) and again at export
 * time. The list grows from sudo's env_reset tables (plugins/sudoers/env.c: initial_badenv_table,
 * the variables it deletes; initial_checkenv_table, those it checks), glibc's list of variables
 * removed for set-uid programs (unsecvars.h), and the variables shells, pagers, editors, language
 * runtimes, TLS libraries, container and cloud CLIs read. OpenSSH accepts no variable from a
 * client unless `AcceptEnv` names it; the allow rule above is that stance, the list is its backstop.
 */
import { VaultError } from '../errors.js';

/** Upper-case portable names only: what every shell we emit for can assign. */
export const EXPORT_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;

interface Family {
  readonly why: string;
  readonly exact?: readonly string[];
  readonly prefixes?: readonly string[];
  readonly suffixes?: readonly string[];
}

const FAMILIES: readonly Family[] = [
  {
    why: 'changes how the dynamic loader or the C library loads code and data',
    exact: ['GCONV_PATH', 'GETCONF_DIR', 'LOCPATH', 'NLSPATH', 'PATH_LOCALE', 'NIS_PATH', 'LIBPATH', 'SHLIB_PATH', 'AUTHSTATE', 'TZ', 'TZDIR'],
    prefixes: ['LD_', 'DYLD_', '_RLD', 'LDR_', 'MALLOC_', 'GLIBC_', 'LC_'],
  },
  {
    why: 'changes how host names resolve',
    exact: ['HOSTALIASES', 'LOCALDOMAIN', 'RES_OPTIONS', 'RESOLV_HOST_CONF', 'RESOLV_MULTI', 'RESOLV_REORDER'],
  },
  {
    why: 'changes what a shell runs, reads or shows',
    exact: [
      'PATH', 'CDPATH', 'FPATH', 'IFS', 'ENV', 'SHELL', 'HOME', 'USER', 'LOGNAME', 'PWD', 'OLDPWD', 'TMPDIR', 'TMP', 'TEMP', 'LANG',
      'LANGUAGE', 'LINGUAS', 'SHELLOPTS', 'BASHOPTS', 'GLOBIGNORE', 'PS0', 'PS1', 'PS2', 'PS3', 'PS4', 'PROMPT', 'PROMPT2',
      'PROMPT3', 'PROMPT4', 'RPROMPT', 'RPROMPT2', 'RPS1', 'RPS2', 'SPROMPT', 'PROMPT_COMMAND', 'PROMPT_DIRTRIM', 'TIMEFORMAT',
      'ZDOTDIR', 'ZSH', 'NULLCMD', 'READNULLCMD', 'TMPPREFIX', 'INPUTRC', 'HISTFILE', 'HISTCONTROL', 'HISTIGNORE', 'HISTSIZE',
      'HISTFILESIZE', 'HISTTIMEFORMAT', 'MAIL', 'MAILPATH', 'MAILCHECK', 'POSIXLY_CORRECT', 'TERM', 'COLORTERM', 'TERMCAP',
      'TERMINFO', 'TERMINFO_DIRS', 'TERMPATH', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'XAUTHORIZATION',
    ],
    prefixes: ['BASH_', 'ZSH_', 'XDG_', 'KSH_'],
  },
  {
    why: 'names a program that other programs run (an editor, pager, browser or password prompt)',
    exact: [
      'EDITOR', 'VISUAL', 'FCEDIT', 'PAGER', 'MANPAGER', 'MANPATH', 'MANOPT', 'MANROFFOPT', 'BROWSER', 'TERMINAL', 'LESS',
      'LESSOPEN', 'LESSCLOSE', 'LESSKEY', 'LESSKEYIN', 'LESSKEY_SYSTEM', 'LESSKEYIN_SYSTEM', 'LESSSECURE', 'LESSEDIT',
      'LESSHISTFILE', 'LESSCHARSET', 'LESSCHARDEF', 'LESSMETACHARS', 'LESSMETAESCAPE', 'VIM', 'VIMINIT', 'VIMRUNTIME', 'MYVIMRC',
      'GVIMINIT', 'EXINIT', 'EMACSLOADPATH', 'EMACSPATH', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'SSH_AUTH_SOCK', 'SSH_AGENT_PID',
      'GPG_AGENT_INFO', 'PSQLRC', 'MYSQL_PS1', 'WGETRC', 'CURL_HOME', 'HGRCPATH', 'HGEDITOR', 'KUBECONFIG', 'MAKEFLAGS',
      'MAKEFILES', 'CC', 'CXX', 'CPP', 'LD', 'AR', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'CPATH', 'PKG_CONFIG',
    ],
    prefixes: ['LESS_', 'SUDO_', 'SYSTEMD_', 'GPG_'],
    suffixes: [
      '_PAGER', '_EDITOR', '_VISUAL', '_BROWSER', '_ASKPASS', '_SHELL', '_COMMAND', '_CMD', '_PROGRAM', '_WRAPPER', '_EXECUTABLE',
      '_EXE', '_BIN', '_BINARY', '_PRELOAD', '_HOOK', '_HOOKS',
    ],
  },
  {
    why: 'changes what code a language runtime or build tool loads, or where it installs from',
    exact: [
      'CLASSPATH', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'PERLIO_DEBUG', 'PHPRC', 'TCLLIBPATH', 'GEM_HOME', 'GEM_PATH',
      'BUNDLE_GEMFILE', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'ELECTRON_RUN_AS_NODE', 'DENO_DIR', 'DENO_CERT', 'DENO_TLS_CA_STORE',
      'DENO_INSTALL_ROOT', 'BUN_INSTALL', 'RUSTC', 'RUSTFLAGS', 'RUSTDOCFLAGS', 'CARGO_HOME', 'GOFLAGS', 'GOPATH', 'GOROOT',
      'GOPROXY', 'GOSUMDB', 'GONOSUMDB', 'GONOPROXY', 'GOPRIVATE', 'GOINSECURE', 'GOTOOLCHAIN', 'GOENV', 'GOBIN', 'GOEXPERIMENT',
    ],
    prefixes: [
      'NODE_', 'NPM_CONFIG_', 'YARN_', 'PNPM_', 'BUN_CONFIG_', 'PYTHON', 'PIP_', 'UV_', 'PERL', 'RUBY', 'JAVA_', 'GRADLE_',
      'MAVEN_', 'DOTNET_', 'COMPLUS_', 'CORECLR_', 'PHP_', 'LUA_', 'R_', 'ERL_', 'RUSTUP_', 'CARGO_BUILD_', 'CARGO_TARGET_',
      'CARGO_REGISTRIES_', 'ELECTRON_', 'GIT_', 'MCP_TOKENS_',
    ],
    suffixes: ['_OPTIONS', '_OPTS', '_FLAGS', '_ARGS', '_LIBS', '_LIB', '_LIBRARY', '_MODULES', '_PLUGINS', '_PLUGIN_PATH'],
  },
  {
    why: 'points a program at a file or directory it reads configuration, keys or code from',
    exact: ['GNUPGHOME', 'PGSERVICEFILE', 'PGSYSCONFDIR', 'PGPASSFILE', 'PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLCRL'],
    prefixes: ['PASSWORD_STORE_', 'KRB5', 'KRB_', 'CONTAINERS_', 'CLOUDSDK_'],
    suffixes: ['_PATH', '_DIR', '_DIRS', '_HOME', '_ROOT', '_CONF', '_CONFIG', '_CONFIG_FILE', '_CONFIG_DIR', '_CREDENTIALS_FILE', '_RC', '_RCFILE', '_HISTFILE', '_INIT', '_STARTUP'],
  },
  {
    why: 'changes whom a program trusts or what it reveals of its TLS sessions (certificates, TLS settings, key logs)',
    exact: ['SSLKEYLOGFILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'],
    prefixes: ['SSL_', 'OPENSSL_', 'GNUTLS_', 'NSS_'],
    suffixes: ['_CA_BUNDLE', '_CA_CERT', '_CA_CERTS', '_CACERT', '_CAFILE', '_CA_FILE', '_CAPATH', '_CA_PATH', '_KEYLOGFILE', '_TLS_VERIFY', '_INSECURE'],
  },
  {
    why: "decides where a general-purpose tool's traffic goes",
    exact: [
      'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'CONTAINER_HOST', 'CONTAINER_CONNECTION', 'BUILDKIT_HOST', 'AWS_ENDPOINT_URL',
      'NO_PROXY', 'SOCKS_SERVER', 'SOCKS5_SERVER', 'FTP_PROXY', 'RSYNC_RSH', 'RSYNC_CONNECT_PROG', 'CVS_RSH',
    ],
    prefixes: ['DBUS_', 'AWS_ENDPOINT_URL_'],
    suffixes: ['_PROXY', '_SOCK', '_SOCKET', '_BUS_ADDRESS'],
  },
];

const EXACT = new Map<string, string>();
const PREFIXES: Array<[string, string]> = [];
const SUFFIXES: Array<[string, string]> = [];
for (const f of FAMILIES) {
  for (const n of f.exact ?? []) EXACT.set(n, f.why);
  for (const p of f.prefixes ?? []) PREFIXES.push([p, f.why]);
  for (const s of f.suffixes ?? []) SUFFIXES.push([s, f.why]);
}

/** Why `name` may not be set from a credential, whoever declared it; undefined when it may. */
export function unsafeExportName(name: string): string | undefined {
  if (!EXPORT_NAME_RE.test(name)) return 'variable names use only A-Z, 0-9 and _, and do not start with a digit';
  const exact = EXACT.get(name);
  if (exact) return `${name} ${exact}`;
  const prefix = PREFIXES.find(([p]) => name.startsWith(p));
  if (prefix) return `${prefix[0]}* ${prefix[1]}`;
  const suffix = SUFFIXES.find(([s]) => name.endsWith(s));
  if (suffix) return `*${suffix[0]} ${suffix[1]}`;
  return undefined;
}

/**
 * The last words that make a derived name a credential's: the secret itself, never where it is
 * sent or kept. `_PUBLIC_KEY` and its spellings are not: a public key decides whom a program
 * trusts. URL, HOST, ADDR, PORT, USER, PATH… are not: those decide where the credential goes.
 */
const CREDENTIAL_TAIL = /_(TOKEN|TOKENS|KEY|APIKEY|SECRET|SECRETS|PASSWORD|PASSWD|PASSPHRASE|PASS|PWD|PAT|AUTH|COOKIE|BEARER)$/;
const NOT_CREDENTIAL_TAIL = /_(PUBLIC_KEY|PUB_KEY|PUBKEY|PUBLICKEY|SIGNING_PUBLIC_KEY|VERIFY_KEY|VERIFICATION_KEY)$/;

/** True when a name derived for an undeclared service has a credential's shape (OPENAI_API_KEY, SLACK_BOT_TOKEN). */
export function credentialShaped(name: string): boolean {
  return CREDENTIAL_TAIL.test(name) && !NOT_CREDENTIAL_TAIL.test(name);
}

/**
 * Why a name derived for an undeclared service is not exported, or undefined when it is: it
 * must pass the refused list and have a credential's shape.
 */
export function derivedNameProblem(name: string): string | undefined {
  const unsafe = unsafeExportName(name);
  if (unsafe) return unsafe;
  if (!credentialShaped(name)) {
    return `${name} is not a credential's name (a name derived for a service nobody declared is exported only when it ends in _TOKEN, _KEY, _SECRET, _PASSWORD, _PAT…)`;
  }
  return undefined;
}

/** Throw INVALID_INPUT (exit 2) for a name a credential may not set; `where` says who gave it. */
export function checkExportName(name: string, where: string): string {
  const why = unsafeExportName(name);
  if (why) {
    const shown = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name).replace(/[\u0000-\u001f\u007f]/g, '?');
    throw new VaultError('INVALID_INPUT', `Refusing the variable name ${shown} in ${where}: ${why}`, {
      hint: 'choose the name the server documents for its credential, e.g. GITHUB_TOKEN or API_ACCESS_TOKEN',
    });
  }
  return name;
}
