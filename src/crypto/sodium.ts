import type Sodium from 'libsodium-wrappers-sumo';

export type SodiumApi = typeof Sodium;

let ready: Promise<SodiumApi> | undefined;

/** libsodium, loaded on first use only: the WebAssembly start-up is not free. */
export function sodium(): Promise<SodiumApi> {
  ready ??= import('libsodium-wrappers-sumo').then(async (mod) => {
    const s = (mod as unknown as { default: SodiumApi }).default ?? (mod as unknown as SodiumApi);
    await s.ready;
    return s;
  });
  return ready;
}
