import type { EntryName } from '../names.js';
import type { Backend } from './types.js';

export const MEMORY_BACKEND = 'memory';

/** In-process backend for tests and library use; never chosen automatically. */
export function memoryBackend(initial: Iterable<[EntryName, string]> = []): Backend {
  const data = new Map<EntryName, string>(initial);
  return {
    name: MEMORY_BACKEND,
    get: async (name) => data.get(name),
    set: async (name, value) => {
      data.set(name, value);
    },
    delete: async (name) => data.delete(name),
    list: async () => [...data.keys()],
  };
}
