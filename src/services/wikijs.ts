import { jwtTokenField, urlField } from './validators.js';
import type { ServiceSpec } from './types.js';

export const wikijs: ServiceSpec = {
  name: 'wikijs',
  title: 'WikiJS',
  builtin: true,
  fields: [
    jwtTokenField('WIKIJS_TOKEN', 'WikiJS', '<your_wikijs_token>', 'an API key (a JWT)'),
    urlField('WIKIJS_URL', '<your_wikijs_url>', 'instance URL, e.g. http://wiki.example.com:3000'),
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/wikijs.js').then((m) => m.verifyWikijs(values, ctx)),
};
