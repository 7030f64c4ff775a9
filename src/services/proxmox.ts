import { isAbsolute } from 'node:path';
import { checkPemCertificateFile, isHostWithPort } from './validators.js';
import type { ServiceSpec } from './types.js';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const USER = '[A-Za-z0-9._-]+@[A-Za-z][A-Za-z0-9._-]*';
const TOKEN_RE = new RegExp(`^PVEAPIToken=${USER}![A-Za-z][A-Za-z0-9._-]*=${UUID}$`);
const USER_RE = new RegExp(`^${USER}$`);
const FINGERPRINT_RE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/;

export const proxmox: ServiceSpec = {
  name: 'proxmox',
  title: 'Proxmox VE',
  builtin: true,
  fields: [
    {
      key: 'token',
      env: 'PROXMOX_TOKEN',
      secret: true,
      required: true,
      placeholder: "'PVEAPIToken=user@realm!token=uuid'",
      description: 'API token, PVEAPIToken=user@realm!tokenid=UUID',
      validate: (v) =>
        TOKEN_RE.test(v)
          ? undefined
          : 'Invalid Proxmox token format: expected PVEAPIToken=user@realm!tokenid=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
    },
    {
      key: 'host',
      env: 'PROXMOX_HOST',
      secret: false,
      required: true,
      placeholder: 'your.proxmox.host',
      description: 'IP address or FQDN, optional :port (default 8006)',
      validate: (v) =>
        isHostWithPort(v)
          ? undefined
          : 'Invalid host format: expected an IPv4 or IPv6 address or a hostname, optionally with :port (e.g. pve.example.com:8006)',
    },
    {
      key: 'user',
      env: 'PROXMOX_USER',
      secret: false,
      required: true,
      placeholder: 'root@pam',
      description: 'user@realm, e.g. root@pam',
      validate: (v) => (USER_RE.test(v) ? undefined : 'Invalid Proxmox user format: expected user@realm, e.g. root@pam'),
    },
    {
      key: 'fingerprint',
      env: undefined,
      secret: false,
      required: false,
      placeholder: 'AA:BB:…',
      description: "SHA-256 fingerprint of the server's certificate, to trust a self-signed certificate",
      validate: (v) =>
        FINGERPRINT_RE.test(v)
          ? undefined
          : 'Invalid fingerprint format: expected 32 hex byte pairs separated by colons (AA:BB:…), as shown by the Proxmox web UI',
    },
    {
      key: 'ca',
      env: undefined,
      secret: false,
      required: false,
      placeholder: '/path/to/ca.pem',
      description: 'path of a CA certificate file (PEM) that signed the server certificate',
      // Checked when stored: a path that is missing or not a certificate would only fail at verify time.
      validate: (v) => (isAbsolute(v) ? checkPemCertificateFile(v) : 'Invalid CA file path: expected an absolute path to a PEM file'),
    },
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/proxmox.js').then((m) => m.verifyProxmox(values, ctx)),
};
