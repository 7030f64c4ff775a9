/**
 * The performance issue's targets, each checked against this run's own numbers (ratios and
 * differences of medians; absolute times on a shared machine mean little). A target whose rows
 * were skipped is reported as such, never as met.
 */
const PRESET_MIB = { interactive: 64, default: 64, moderate: 256, sensitive: 1024 };
const KDF_RUNS = Object.keys(PRESET_MIB);

/** The hot path's targets (issue 28), the ones `--only hotpath` reports. */
export const HOT_PATH = new Set(['kc-load', 'kc-run', 'services-json', 'python', 'file-load-default']);

export function evaluateTargets(r, resident, safety, agent) {
  const t = [];
  const med = (id) => r[id]?.median;
  const add = (name, ok, detail, key) => t.push({ name, status: ok === undefined ? 'skipped' : ok ? 'met' : 'not met', detail, key });
  const ratio = (a, b) => (med(a) !== undefined && med(b) !== undefined ? med(a) / med(b) : undefined);
  const x = (v) => (v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
  const ms = (v) => (v === undefined ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms`);
  const le = (v, max) => (v === undefined ? undefined : v <= max);

  // The hot path (issue 28): one Secret Service round trip, no zod, little of our own start-up.
  const besides = (v) => {
    const req = ratio('floor: keychain read (addon by require)', 'floor: keychain read');
    return req === undefined || v === undefined ? x(v) : `${x(v)} (${x(v / req)} of the floor that loads the addon by require)`;
  };
  const kcLoad = ratio('keychain: load github', 'floor: keychain read');
  add('keychain `load github` ≤ 1.3× the Node keychain floor', le(kcLoad, 1.3), besides(kcLoad), 'kc-load');
  const kcRun = ratio('keychain: run github -- true', 'floor: keychain read');
  add('keychain `run github -- true` ≤ 1.3× the Node keychain floor', le(kcRun, 1.3), besides(kcRun), 'kc-run');
  const userA = med('keychain: run acme -- true (services.json)');
  const userB = med('keychain: run acme -- true (no services.json)');
  const added = userA === undefined || userB === undefined ? undefined : userA - userB;
  add('a services.json adds ≤ 10 ms to `run` (keychain, `run acme -- true`)', le(added, 10), ms(added), 'services-json');
  const py = ratio('peer: python3 -m keyring get', 'keychain: load github');
  add('`python3 -m keyring get` takes ≥ 2.5× our keychain `load github`', py === undefined ? undefined : py >= 2.5, `python keyring takes ${x(py)} as long`, 'python');

  for (const p of KDF_RUNS) {
    const v = ratio(`file ${p}: load github`, `floor: file read (${p})`);
    if (v !== undefined) add(`file \`load github\` ≤ 1.15× the file floor (--kdf ${p})`, le(v, 1.15), x(v), p === 'default' ? 'file-load-default' : undefined);
  }

  const runVsLoad = (prefix) => {
    const a = med(`${prefix}: run github -- true`);
    const b = med(`${prefix}: load github`);
    if (a !== undefined && b !== undefined) add(`\`run github -- true\` ≤ \`load github\` + 10 ms (${prefix})`, a - b <= 10, ms(a - b));
  };
  runVsLoad('keychain');
  for (const p of KDF_RUNS) runVsLoad(`file ${p}`);

  const ver = ratio('mcp-tokens --version', "node -e ''");
  add("`--version` ≤ 1.5× `node -e ''`", le(ver, 1.5), x(ver));
  const help = ratio('mcp-tokens --help', "node -e ''");
  add("`--help` ≤ 1.5× `node -e ''`", le(help, 1.5), x(help));

  const fileVsDx = ratio('file default: run github -- true', 'peer: dotenvx run -- true');
  add('file `run` (default preset) faster than `dotenvx run`', fileVsDx === undefined ? undefined : fileVsDx < 1, `${x(fileVsDx)} of dotenvx's time`);
  const dxVsKc = ratio('peer: dotenvx run -- true', 'keychain: run github -- true');
  add('keychain `run` ≥ 4× faster than `dotenvx run`', dxVsKc === undefined ? undefined : dxVsKc >= 4, `dotenvx takes ${x(dxVsKc)} as long`);

  const rss = (id) => r[id]?.rss;
  const kcRss = rss('keychain: run github -- true');
  add('peak RSS of keychain `run` ≤ 60 MiB', le(kcRss, 60), mib(kcRss));
  for (const p of KDF_RUNS) {
    const v = rss(`file ${p}: run github -- true`);
    if (v !== undefined) add(`peak RSS of file \`run\` ≤ KDF memory + 60 MiB (--kdf ${p}: ≤ ${PRESET_MIB[p] + 60})`, v <= PRESET_MIB[p] + 60, mib(v));
  }

  const store = ratio('store, 10,000 backups', 'store, empty backups/');
  add('with 10,000 backups, `store` ≤ 1.2× the empty-vault figure', le(store, 1.2), x(store));
  const load = ratio('load, 10,000 backups', 'load, empty backups/');
  add('with 10,000 backups, `load` ≤ 1.1× the empty-vault figure', le(load, 1.1), x(load));

  for (const [id, v] of Object.entries(resident)) {
    if (id.startsWith('floor') || id.startsWith('peer')) continue;
    if ('replaced' in v) add(`\`run\` leaves nothing resident (${id}: execve)`, true, 'replaced by the child');
    else add(`waiting parent of \`run\` ≤ 45 MiB RSS (${id})`, v.rss <= 45, `${mib(v.rss)} (anon ${mib(v.anon)}, file-backed ${mib(v.file)})`);
  }

  const viaAgent = ratio('file default: run github -- true', 'agent: run github -- true');
  add('file `run github -- true` through the agent ≥ 3× faster than without (--kdf default)', viaAgent === undefined ? undefined : viaAgent >= 3, `without takes ${x(viaAgent)} as long`);
  const agentVsKc = ratio('agent: run github -- true', 'keychain: run github -- true');
  add('file `run` through the agent ≤ 1.2× the keychain `run`', le(agentVsKc, 1.2), x(agentVsKc));
  const agentLoad = ratio('agent: load github', 'floor: keychain read');
  add('file `load` through the agent ≤ 1.5× the Node keychain floor', le(agentLoad, 1.5), x(agentLoad));
  if (agent) {
    add('the agent idle ≤ 45 MiB RSS', agent.rss <= 45, `${mib(agent.rss)} (anon ${mib(agent.anon)}, file-backed ${mib(agent.file)})`);
    add('the agent uses no CPU while idle', agent.cpuTicks === 0, `${agent.cpuTicks} clock ticks in ${agent.idleMs / 1000} s`);
  }

  if (safety) add('`run` with a wrong passphrase exits 4 and never starts the child', safety.code === 4 && !safety.childRan, `exit ${safety.code}, child ${safety.childRan ? 'RAN' : 'not started'}`);
  return t;
}

function mib(v) {
  return v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`;
}
