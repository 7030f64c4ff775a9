// Build step, after tsc: the CLI as one file, dist/cli/bundle.js, which bin/mcp-tokens.js runs,
// and the fast path's own smaller one (below).
//
// Why: Node resolves, reads and links every ES module on its own, and `load github` reached ~60 of
// ours plus commander: about 40 ms of a keychain `load` went to loading modules (issue 28, the hot
// path's ≤ 1.3× target). One file of our code is parsed once and linked once.
//
// What stays out of the file, so that a command pays only for what it uses:
// - the native keychain addon, libsodium (WebAssembly; the KDF worker imports it by URL) and
//   age-encryption: our code loads each of them on use already (createRequire, import());
// - zod, yaml, the two TOML libraries and jsonc-parser: imported at the top of modules that only
//   some commands reach (services.json's full check, migrate's configs); the first three are big,
//   and jsonc-parser's UMD build requires its parts by computed names, which esbuild cannot
//   follow. An ES bundle would
//   hoist those imports to its own top and load them on every run; here each becomes a
//   `require()` inside the module that imports it, which the bundle only runs when a command
//   first reaches that module (esbuild defers every module reached through `import()`). All
//   five load with require() on every Node this package supports (engines: >= 20.19, where
//   require() of an ES module is on by default).
// - Node's own modules likewise: hoisted, every run would load http, https, tls, net,
//   child_process, worker_threads… (each one Node compiles on first use), for one command's sake.
//
// Both bundles sit where dist/cli/main.js does, so the paths our code builds from
// import.meta.url (../../package.json, ./help.txt, ../../bin/mcp-tokens.js, ../agent/main.js)
// mean the same in both. The rest of dist/ (tsc's output) stays: the package's library entry and
// the unlock agent's process run from it.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LOADED_ON_USE = ['@napi-rs/keyring', 'libsodium-wrappers-sumo', 'age-encryption'];
export const REQUIRED_ON_USE = ['zod', 'yaml', '@decimalturn/toml-patch', 'toml-eslint-parser', 'jsonc-parser'];

const requiredOnUse = {
  name: 'required-on-use',
  setup(b) {
    b.onResolve({ filter: /^[@a-z]/ }, (a) =>
      (REQUIRED_ON_USE.includes(a.path) || a.path.startsWith('node:')) && a.namespace === 'file' && a.kind === 'import-statement'
        ? { path: a.path, namespace: 'required-on-use' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'required-on-use' }, (a) => ({
      contents: `module.exports = require(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};

// Two bundles, each a whole program: bin loads exactly one of them per process, so no module
// of ours ever runs twice in one process. bundle-fast.js holds only what `load <service>` and
// `run <service> -- …` without options need (cli/plain-args.ts decides, in bin): ~240 KB that
// V8 compiles on every MCP server start, against ~590 KB for the whole CLI.
const BUNDLES = [
  ['dist/cli/main.js', 'dist/cli/bundle.js'],
  ['dist/cli/fast.js', 'dist/cli/bundle-fast.js'],
];

for (const [entry, outfile] of BUNDLES) await build({
  absWorkingDir: REPO,
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Whitespace and syntax only: names stay readable in a stack trace, and keepNames keeps
  // every function's and class's .name as tsc's output has it.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  external: [...LOADED_ON_USE, ...REQUIRED_ON_USE],
  plugins: [requiredOnUse],
  // commander (CommonJS) and the modules above are loaded with require(): an ES module has none.
  banner: { js: "import { createRequire as __mcptCreateRequire } from 'node:module'; const require = __mcptCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
