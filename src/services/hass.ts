import { isJwt, urlField } from './validators.js';
import type { ServiceSpec } from './types.js';

export const hass: ServiceSpec = {
  name: 'hass',
  title: 'Home Assistant',
  builtin: true,
  fields: [
    {
      key: 'token',
      env: 'HA_TOKEN',
      secret: true,
      required: true,
      placeholder: '<your_hass_token>',
      description: 'long-lived access token (a JWT)',
      validate: (v) =>
        isJwt(v)
          ? undefined
          : 'Invalid Home Assistant token format: expected a long-lived access token (a JWT: three base64url parts separated by dots)',
    },
    urlField('HA_URL', '<your_hass_url>', 'instance URL, e.g. http://homeassistant.local:8123'),
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/hass.js').then((m) => m.verifyHass(values, ctx)),
};
