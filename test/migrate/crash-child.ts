/**
 * Run by crash.test.ts (compiled to JS) in a child process: plan and apply a migration against a
 * TestTarget persisted in a state file, and SIGKILL itself at the Nth point — before a call into
 * the target or after a step of apply. With N = -1 it runs to the end and prints the point count.
 */
import { applyMigration, planMigration } from '../../src/migrate/index.js';
import type { PlanOptions } from '../../src/migrate/plan.js';
import type { FileBackupInput } from '../../src/migrate/types.js';
import { TestTarget } from './targets.js';

interface Args {
  options: PlanOptions;
  stateFile: string;
  killAt: number;
}

const args = JSON.parse(process.argv[2]!) as Args;
let points = 0;
const point = (): void => {
  if (points++ === args.killAt) process.kill(process.pid, 'SIGKILL');
};

class KillingTarget extends TestTarget {
  override async store(service: string, key: string, value: string): Promise<void> {
    point();
    return super.store(service, key, value);
  }
  override async importBackup(service: string, key: string, value: string, at: Date | undefined): Promise<string> {
    point();
    return super.importBackup(service, key, value, at);
  }
  override async saveFileBackup(meta: FileBackupInput, content: Uint8Array): Promise<string> {
    point();
    return super.saveFileBackup(meta, content);
  }
}

const target = new KillingTarget({ stateFile: args.stateFile });
const plan = await planMigration(target, args.options);
const result = await applyMigration(plan, target, { onEvent: point });
process.stdout.write(JSON.stringify({ points, ok: result.ok }));
