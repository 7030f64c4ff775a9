/**
 * A keychain worker thread (keychain-pool.ts): answers item calls on connections of its own, which
 * end with the thread. It reads nothing but its messages and writes nothing but its replies.
 */
import { parentPort } from 'node:worker_threads';
import { serveInThisThread, serveItem } from './keychain-native.js';
import type { ItemCall } from './keychain-pool.js';

serveInThisThread();
const port = parentPort;
if (!port) throw new Error('keychain-worker.js runs as a worker thread only');
port.on('message', (call: ItemCall & { id: number }) => {
  void serveItem(call).then((reply) => port.postMessage(reply));
});
