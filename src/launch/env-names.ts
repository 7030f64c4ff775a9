/**
 * Which variable names mcp-tokens will set from a stored value. A credential must never decide
 * what code a server runs, where it loads code from, whom it trusts or where its traffic goes:
 * names that do (PATH, LD_PRELOAD, NODE_OPTIONS, GIT_*, proxies, CA bundles…) are refused
 * wherever a name is given — `--env`, services.json, `services add` — and again at export time.
 */
import { VaultError } from '../errors.js';

/** Upper-case portable names only: what every shell we emit for can assign. */
export const EXPORT_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;

const EXACT = new Set([
  // shells and the dynamic loader
  'PATH', 'IFS', 'ENV', 'BASH_ENV', 'SHELLOPTS', 'BASHOPTS', 'CDPATH', 'PS4', 'PROMPT_COMMAND', 'HOME', 'SHELL',
  'TMPDIR', 'GLOBIGNORE', 'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'HOSTALIASES', 'RESOLV_HOST_CONF', 'LANG', 'LANGUAGE',
  // programs that run other programs
  'EDITOR', 'VISUAL', 'PAGER', 'BROWSER', 'SUDO_ASKPASS', 'SSH_ASKPASS', 'SSH_AUTH_SOCK', 'GPG_AGENT_INFO',
  // language runtimes: code loaded before the program's own
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'RUBYOPT', 'RUBYLIB', 'GEM_HOME', 'GEM_PATH', 'BUNDLE_GEMFILE',
  'CLASSPATH', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GOFLAGS', 'CARGO_HOME', 'RUSTC_WRAPPER',
  'DENO_DIR', 'BUN_INSTALL', 'ELECTRON_RUN_AS_NODE',
  // trust and traffic
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY',
  'NO_PROXY', 'FTP_PROXY',
]);

/** Whole families: LD_PRELOAD, DYLD_INSERT_LIBRARIES, NODE_OPTIONS, PYTHONPATH, GIT_CONFIG…, UV_INDEX_URL, every MCP_TOKENS_*. */
const PREFIXES = [
  'LD_', 'DYLD_', 'NODE_', 'NPM_CONFIG_', 'YARN_', 'PNPM_', 'PYTHON', 'PIP_', 'UV_', 'PERL', 'RUBY', 'GIT_', 'BASH_FUNC_',
  'MALLOC_', 'GLIBC_', 'LC_', 'MCP_TOKENS_', 'DOTNET_', 'COMPLUS_', 'CORECLR_', 'JAVA_', 'GRADLE_', 'MAVEN_',
  'XDG_',
];

/** Why `name` may not be set from a credential, or undefined when it may. */
export function unsafeExportName(name: string): string | undefined {
  if (!EXPORT_NAME_RE.test(name)) return 'variable names use only A-Z, 0-9 and _, and do not start with a digit';
  if (EXACT.has(name)) return `${name} changes how programs load or run`;
  const family = PREFIXES.find((p) => name.startsWith(p));
  if (family) return `${family}* variables change how programs load or run`;
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
