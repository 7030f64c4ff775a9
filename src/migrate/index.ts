/** The migration core: find plaintext credentials, plan, apply, undo. Returns data; never prints. */
export type * from './types.js';
export { planMigration, type PlanOptions } from './plan.js';
export { applyMigration, type ApplyEvent, type ApplyOptions, type FileOutcome, type MigrationResult } from './apply.js';
export { listRuns, undoMigration, type RunSummary, type UndoOptions, type UndoOutcome, type UndoResult } from './undo.js';
export { leftovers } from './left.js';
export { describeLeft, describePlan, describeUnlockSummary, planToJSON, itemToJSON, type PlanJSON, type PlanItemJSON } from './format.js';
export { configLocations, type ConfigLocation } from './sources/configs.js';
export { KNOWN_FIELDS, mask } from './known.js';
export { unlockAtStart, vaultAccess, type UnlockAtStart, type VaultAccess } from './unlock.js';
