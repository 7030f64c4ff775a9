/**
 * Last line of defence for verify reports: every string in a report is scrubbed of the stored
 * secret values before it leaves the core. The checks never put a token in a message, but they do
 * quote servers (a status reason, a GraphQL error), and a server can echo what it was sent.
 */
import type { ServiceSpec } from '../services/index.js';

export const REDACTED = '[redacted]';
// Shorter strings would also match ordinary words; no real credential is this short.
const MIN_SECRET_LENGTH = 6;

/** The strings to scrub for a service: secret values, plus the UUID part of `…=uuid` tokens. */
export function secretsOf(spec: ServiceSpec, values: Readonly<Record<string, string>>): string[] {
  const out = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    const field = spec.fields.find((f) => f.key === key);
    if (field && !field.secret) continue; // unknown keys are treated as secret
    for (const part of secretParts(value)) out.add(part);
  }
  return [...out];
}

/** A function that replaces every occurrence of the given secrets (longest first) in a string. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const list = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((s, secret) => s.split(secret).join(REDACTED), text);
}

/** A secret value and, for `…=uuid` tokens (Proxmox), the UUID alone: it is the secret part. */
export function secretParts(value: string): string[] {
  const tail = value.slice(value.lastIndexOf('=') + 1);
  return tail === value ? [value] : [value, tail];
}

export function redactReport<T>(value: T, secrets: readonly string[]): T {
  return walk(value, scrubber(secrets)) as T;
}

function walk(value: unknown, scrub: (text: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, scrub));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, scrub)]));
  }
  return value;
}
