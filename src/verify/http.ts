/**
 * The one HTTP helper of `verify`. Built on node:http/node:https rather than fetch because the
 * TLS policy must be ours: system trust (Node's CA bundle plus NODE_EXTRA_CA_CERTS) by default,
 * or per request a CA file or a pinned certificate fingerprint. There is no "insecure" switch.
 *
 * Redirects: only same-origin (same scheme, host and port) redirects of a GET are followed, at most
 * MAX_REDIRECTS times. A redirect to another origin is never followed — not even without the
 * token — and is reported, because the stored URL is then wrong and the user should fix it.
 *
 * Every outcome is data (HttpResult); nothing here throws for a network problem or prints.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { classify, HttpFailure, type Failure } from './failure.js';
import { pinnedConnect } from './pin.js';

export const MAX_REDIRECTS = 3;
export const DEFAULT_MAX_BYTES = 1024 * 1024;

export interface TlsTrust {
  /** SHA-256 fingerprint of the one certificate to accept, `AA:BB:…`. Wins over caFile. */
  readonly fingerprint?: string | undefined;
  /** PEM file of the CA(s) to trust instead of the system store. */
  readonly caFile?: string | undefined;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  readonly tls?: TlsTrust | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly maxBytes?: number | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
  /** The URL that answered, after same-origin redirects. */
  readonly url: string;
}

export type HttpResult =
  | { readonly ok: true; readonly response: HttpResponse; readonly warnings: readonly string[] }
  | ({ readonly ok: false; readonly warnings: readonly string[] } & Failure);

export async function request(req: HttpRequest): Promise<HttpResult> {
  let url = new URL(req.url);
  const origin = url.origin;
  const warnings: string[] = [];
  const plain = plainHttpWarning(url, req.headers);
  if (plain) warnings.push(plain);

  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
  const host = url.host;
  try {
    const ca = req.tls?.caFile && !req.tls.fingerprint ? await readCa(req.tls.caFile) : undefined;
    for (let hop = 0; ; hop++) {
      const response = await exchange(url, req, ca, signal);
      const location = response.headers['location'];
      if (response.status < 300 || response.status >= 400 || !location) return { ok: true, response, warnings };
      const next = new URL(location, url);
      if (next.origin !== origin) {
        throw new HttpFailure(
          'unexpected',
          `${host} redirects to another origin (${next.origin}); the token was not sent there — if the service moved, store its new address`,
        );
      }
      if (req.method !== 'GET') throw new HttpFailure('unexpected', `${host} redirects the ${req.method} request to ${next.pathname}`);
      if (hop >= MAX_REDIRECTS) throw new HttpFailure('unexpected', `${host}: more than ${MAX_REDIRECTS} redirects`);
      url = next;
    }
  } catch (e) {
    const state = { timedOut: deadline.aborted, cancelled: req.signal?.aborted === true, timeoutMs: req.timeoutMs };
    return { ok: false, warnings, ...classify(e, host, state) };
  }
}

/** A token over plain http to anything but this machine can be read by anyone on the path. */
export function plainHttpWarning(url: URL, headers: Readonly<Record<string, string>>): string | undefined {
  const sendsSecret = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
  if (url.protocol !== 'http:' || !sendsSecret || isLoopback(url.hostname)) return undefined;
  return `the token goes over plain http to ${url.host}: anyone on the network path can read it; use https`;
}

export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

async function readCa(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HttpFailure('tls', `cannot read the CA file ${path} (${code})`);
  }
}

async function exchange(url: URL, req: HttpRequest, ca: string | undefined, signal: AbortSignal): Promise<HttpResponse> {
  const https = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (https ? 443 : 80));
  const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  const options: RequestOptions & { ca?: string } = {
    method: req.method,
    host: hostname,
    port,
    path: `${url.pathname}${url.search}`,
    headers: { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    signal,
    // A fresh connection per request: no pooled socket can skip the pin or the CA choice.
    agent: false,
  };
  const pin = https ? req.tls?.fingerprint : undefined;
  if (pin) {
    const socket = await pinnedConnect(hostname, port, pin, signal);
    delete options.agent; // createConnection is only used when no agent is given
    options.createConnection = () => socket;
  } else if (ca !== undefined) {
    options.ca = ca;
  }
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const out = (https ? httpsRequest : httpRequest)(options, (res) => {
      readBody(res, maxBytes, url.host).then((text) => resolve(toResponse(res, text, url)), reject);
    });
    out.once('error', reject);
    out.end(body);
  });
}

function readBody(res: IncomingMessage, maxBytes: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new HttpFailure('unexpected', `${host}: the answer is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}

function toResponse(res: IncomingMessage, body: string, url: URL): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body, json: parseJson(body), url: url.href };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
