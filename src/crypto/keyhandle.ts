/**
 * A key handle seals and opens blobs without handing its key to the caller. The file backend
 * and backups use one; a local handle holds the key in this process, an agent handle
 * (agent/client.ts) asks the `mcp-tokens unlock` agent, which keeps the key to itself.
 */
import { openBytesWithKeys, sealBytes } from './seal.js';
import { createHmac } from 'node:crypto';

export interface KeyHandle {
  /** Names the key (a one-way digest of it): the same key, the same id. */
  readonly id: string;
  /** Seal plaintext under the key with associated data ad; returns the blob's text. */
  seal(plaintext: Uint8Array, ad: Uint8Array): Promise<string>;
  /** Open a blob sealed under the key with ad; INTEGRITY when it does not open. Caller zeroes the result. */
  open(text: string, ad: Uint8Array, what: string): Promise<Uint8Array>;
}

const KEY_ID_CONTEXT = new TextEncoder().encode('mcp-tokens/v1/key-id');

/** 16 bytes of HMAC-SHA256(key, context), in hex: names a key without revealing it. */
export function keyId(key: Uint8Array): string {
  return createHmac('sha256', key).update(KEY_ID_CONTEXT).digest().subarray(0, 16).toString('hex');
}

/** A handle over keys held here: seals under the first, opens with the first that fits. */
export function localKeyHandle(key: Uint8Array, previous?: Uint8Array): KeyHandle {
  const keys = previous ? [key, previous] : [key];
  return {
    id: keyId(key),
    seal: (plaintext, ad) => sealBytes(key, plaintext, ad),
    open: async (text, ad, what) => (await openBytesWithKeys(keys, text, ad, what)).bytes,
  };
}
