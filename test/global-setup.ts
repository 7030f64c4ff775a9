/**
 * Once per run, before any test file: build dist/ if src/ is newer (test/helpers/build.ts), and
 * fail the run on a type error in src/ as `npm run build` does. A fresh clone was built by
 * `npm ci` (prepare), so `npm test` then goes straight to the tests.
 */
import { ensureBuilt } from './helpers/build.js';

export default function setup(): void {
  ensureBuilt({ strict: true });
}
