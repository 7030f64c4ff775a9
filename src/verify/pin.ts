/**
 * Certificate pinning for self-signed servers (Proxmox's default). The TLS handshake is done here,
 * before any HTTP is written: the peer certificate's SHA-256 fingerprint is compared with the pin,
 * and only a matching socket is handed to the HTTP request. A mismatch destroys the socket, so the
 * Authorization header is never sent to an impostor.
 *
 * With a pin, chain and host-name validation are skipped on purpose: the pin names exactly one
 * certificate, which is a stronger statement than "some trusted CA signed something for this name".
 */
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import { HttpFailure } from './failure.js';

/** `AA:BB:…` or `aabb…` → `AABB…`, so user-typed pins compare equal to Node's format. */
export function normaliseFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase();
}

export function pinnedConnect(host: string, port: number, pin: string, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = connect({
      host,
      port,
      // SNI must not carry an IP address (RFC 6066); Node warns if we try.
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (e: Error): void => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      const presented = socket.getPeerCertificate().fingerprint256;
      if (!presented || normaliseFingerprint(presented) !== normaliseFingerprint(pin)) {
        socket.destroy();
        reject(
          new HttpFailure(
            'tls',
            `${host}: the certificate does not match the pinned fingerprint (the server presented ${presented || 'none'}); ` +
              'if the certificate was renewed, check the new fingerprint on the server and store it',
          ),
        );
        return;
      }
      resolve(socket);
    });
  });
}
