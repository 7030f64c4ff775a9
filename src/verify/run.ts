/**
 * `verify` as data: for each service, the format of every stored field, the required fields that
 * are missing, then (unless offline) the live check, all services concurrently; plus what can be
 * known offline: the age of the credential and a JWT's `exp`.
 *
 * The reports are JSON-serialisable for `verify --json` and never contain a credential: besides
 * never putting one in, every string of a finished report is scrubbed of the stored secret values
 * (a hostile server could echo the token back in an error message we quote).
 */
import { isVaultError } from '../errors.js';
import { checkValue, type ServiceSpec } from '../services/index.js';
import { jwtExpiry } from '../services/validators.js';
import { daysBetween } from './common.js';
import { redactReport, secretsOf } from './redact.js';
import type { VerifyOutcome, VerifyStatus } from './types.js';

/** The seed's rotation advice: "recommended every 90 days". */
export const ROTATION_DAYS = 90;
export const EXPIRY_WARNING_DAYS = 14;

export interface VerifyItem {
  readonly spec: ServiceSpec;
  readonly values: Readonly<Record<string, string>>;
  /** When the credential (its secret) was stored; from metadata.json. */
  readonly storedAt?: Date | undefined;
}

export interface VerifyOptions {
  readonly timeoutMs: number;
  readonly offline: boolean;
  readonly now?: Date | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Called as each service's report is ready (already redacted), for a live status display. */
  readonly onReport?: ((report: ServiceReport) => void) | undefined;
}

export interface FieldReport {
  readonly key: string;
  readonly status: 'ok' | 'missing' | 'bad-format';
  readonly message?: string;
}

export interface ServiceReport {
  readonly service: string;
  readonly title: string;
  /** false when any check failed: the CLI exits 1. Warnings alone keep it true. */
  readonly ok: boolean;
  readonly status: VerifyStatus;
  readonly message: string;
  readonly fields: readonly FieldReport[];
  readonly live: VerifyOutcome;
  readonly storedAt: string | null;
  readonly ageDays: number | null;
  readonly expiresAt: string | null;
  readonly expiresInDays: number | null;
  readonly warnings: readonly string[];
  readonly checkedAt: string;
}

const PASSING: ReadonlySet<VerifyStatus> = new Set(['ok', 'skipped']);

export async function verifyAll(items: readonly VerifyItem[], opts: VerifyOptions): Promise<ServiceReport[]> {
  const now = opts.now ?? new Date();
  return Promise.all(
    items.map(async (item) => {
      const report = await verifyOne(item, opts, now);
      opts.onReport?.(report);
      return report;
    }),
  );
}

async function verifyOne(item: VerifyItem, opts: VerifyOptions, now: Date): Promise<ServiceReport> {
  const { spec, values } = item;
  const warnings: string[] = [];
  const fields = checkFields(spec, values, warnings);
  const badFormat = fields.find((f) => f.status === 'bad-format');
  const missing = fields.filter((f) => f.status === 'missing');

  let live: VerifyOutcome;
  if (badFormat || missing.length > 0) live = { status: 'skipped', message: 'not attempted: fix the stored values first' };
  else if (opts.offline) live = { status: 'skipped', message: 'offline: live check skipped' };
  else if (!spec.verify) live = { status: 'skipped', message: `no live check for ${spec.title}` };
  else live = await runLive(spec, values, opts, now);
  warnings.push(...(live.warnings ?? []));

  const ageDays = item.storedAt ? daysBetween(item.storedAt, now) : null;
  if (ageDays !== null && ageDays > ROTATION_DAYS) {
    warnings.push(`rotation due: stored ${ageDays} days ago (rotate every ${ROTATION_DAYS} days)`);
  }
  const expiry = earliestJwtExpiry(spec, values);
  const expiresInDays = expiry ? daysBetween(now, expiry) : null;
  const expired = expiry !== undefined && expiry.getTime() <= now.getTime();
  if (!expired && expiresInDays !== null && expiresInDays < EXPIRY_WARNING_DAYS) {
    warnings.push(`the token expires in ${expiresInDays} days (${expiry!.toISOString().slice(0, 10)})`);
  }

  let status: VerifyStatus = live.status;
  let message = live.message;
  if (badFormat) [status, message] = ['bad-format', `${badFormat.key}: ${badFormat.message ?? 'invalid'}`];
  else if (missing.length > 0) [status, message] = ['missing', `missing ${missing.map((f) => f.key).join(', ')}`];
  else if (expired && PASSING.has(live.status)) {
    [status, message] = ['expired', `the token expired on ${expiry!.toISOString().slice(0, 10)}`];
  }

  const report: ServiceReport = {
    service: spec.name,
    title: spec.title,
    ok: PASSING.has(status),
    status,
    message,
    fields,
    live,
    storedAt: item.storedAt ? item.storedAt.toISOString() : null,
    ageDays,
    expiresAt: expiry ? expiry.toISOString() : null,
    expiresInDays,
    warnings,
    checkedAt: now.toISOString(),
  };
  return redactReport(report, secretsOf(spec, values));
}

/** Every stored value through the same validator `store` uses; then the required ones that are absent. */
function checkFields(spec: ServiceSpec, values: Readonly<Record<string, string>>, warnings: string[]): FieldReport[] {
  const out: FieldReport[] = [];
  for (const [key, value] of Object.entries(values)) {
    try {
      warnings.push(...checkValue(spec.name, key, value).warnings);
      out.push({ key, status: 'ok' });
    } catch (e) {
      if (!isVaultError(e)) throw e;
      out.push({ key, status: 'bad-format', message: e.hint ? `${e.message}: ${e.hint}` : e.message });
    }
  }
  for (const field of spec.fields) {
    if (field.required && values[field.key] === undefined) {
      out.push({ key: field.key, status: 'missing', message: `mcp-tokens store ${spec.name} ${field.key} ${field.placeholder}` });
    }
  }
  return out;
}

async function runLive(spec: ServiceSpec, values: Readonly<Record<string, string>>, opts: VerifyOptions, now: Date): Promise<VerifyOutcome> {
  try {
    return await spec.verify!(values, { timeoutMs: opts.timeoutMs, signal: opts.signal, now });
  } catch (e) {
    // A bug in a check must not sink the other services' reports; the message names no value.
    return { status: 'unexpected', message: `the ${spec.title} check failed: ${e instanceof Error ? e.name : 'error'}` };
  }
}

/** The soonest `exp` among the secret fields that are JWTs (hass and wikijs tokens). */
function earliestJwtExpiry(spec: ServiceSpec, values: Readonly<Record<string, string>>): Date | undefined {
  let soonest: Date | undefined;
  for (const field of spec.fields) {
    const value = values[field.key];
    const exp = field.secret && value !== undefined ? jwtExpiry(value) : undefined;
    if (exp && (!soonest || exp < soonest)) soonest = exp;
  }
  return soonest;
}
