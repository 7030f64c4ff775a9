import { jwtTokenField, urlField } from './validators.js';
import type { ServiceSpec } from './types.js';

export const hass: ServiceSpec = {
  name: 'hass',
  title: 'Home Assistant',
  builtin: true,
  fields: [
    jwtTokenField('HA_TOKEN', 'Home Assistant', '<your_hass_token>', 'a long-lived access token (a JWT)'),
    urlField('HA_URL', '<your_hass_url>', 'instance URL, e.g. http://homeassistant.local:8123'),
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/hass.js').then((m) => m.verifyHass(values, ctx)),
};
