/**
 * Real HTTP and HTTPS servers on 127.0.0.1 (ephemeral ports) that play a service's part and
 * record every request they receive, so tests can assert the exact Authorization header — or that
 * none arrived at all.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface Reply {
  readonly status?: number;
  readonly statusText?: string;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  readonly body?: unknown;
  /** Wait this long before answering (slow-server tests). */
  readonly delayMs?: number;
}

export type Route = (req: Received) => Reply;

export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** host:port, the form Proxmox's host field takes. */
  readonly host: string;
  readonly received: Received[];
  /** TCP connections accepted: proves a client connected even if it sent no request. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** `bind`: another loopback address (127.0.0.2 on Linux) plays a second, distinct host. */
export async function startServer(route: Route, tls?: { key: string; cert: string }, bind = '127.0.0.1'): Promise<TestServer> {
  const received: Received[] = [];
  let connections = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(rec);
      const reply = route(rec);
      const send = (): void => {
        if (res.destroyed) return;
        const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
        const type = typeof reply.body === 'string' ? 'text/plain' : 'application/json';
        res.writeHead(reply.status ?? 200, reply.statusText ?? '', { 'content-type': type, connection: 'close', ...reply.headers });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  };
  const server: Server = tls ? createHttps({ key: tls.key, cert: tls.cert }, handler) : createHttp(handler);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, bind, resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  return {
    url: `${scheme}://${bind}:${port}`,
    port,
    host: `${bind}:${port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The Authorization header of every request a server received, in order. */
export function authHeaders(server: TestServer): Array<string | undefined> {
  return server.received.map((r) => r.headers.authorization);
}
