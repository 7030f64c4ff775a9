import { isJwt, urlField } from './validators.js';
import type { ServiceSpec } from './types.js';

export const wikijs: ServiceSpec = {
  name: 'wikijs',
  title: 'WikiJS',
  builtin: true,
  fields: [
    {
      key: 'token',
      env: 'WIKIJS_TOKEN',
      secret: true,
      required: true,
      placeholder: '<your_wikijs_token>',
      description: 'API key (a JWT)',
      validate: (v) =>
        isJwt(v)
          ? undefined
          : 'Invalid WikiJS token format: expected an API key (a JWT: three base64url parts separated by dots)',
    },
    urlField('WIKIJS_URL', '<your_wikijs_url>', 'instance URL, e.g. http://wiki.example.com:3000'),
  ],
  // Loaded on demand: only `verify` pays for the HTTP/TLS code.
  verify: (values, ctx) => import('../verify/wikijs.js').then((m) => m.verifyWikijs(values, ctx)),
};
