// A real OpenID Connect provider for the identity tests: oidc-provider, issuing JWT access tokens
// non-interactively through the client-credentials grant (RFC 6749 §4.4) with a resource indicator
// (RFC 8707). Each resource signs with one algorithm, so one provider covers RS256, ES256 and EdDSA:
//   https://chargegate.test/rs256 → RS256, …/es256 → ES256, …/eddsa → EdDSA; audience "chargegate".
// Usage: node provider.mjs CONFIG.json — CONFIG has port, jwks (private keys, the first of each
// algorithm signs) and clients [{client_id, client_secret, driver}]; `driver` becomes the token's
// "driver" claim. Prints "listening <issuer>" once it serves.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const drivers = Object.fromEntries(config.clients.map((c) => [c.client_id, c.driver]));
const ALGS = { rs256: 'RS256', es256: 'ES256', eddsa: 'EdDSA' };

const provider = new Provider(issuer, {
  clients: config.clients.map(({ client_id, client_secret }) => ({
    client_id, client_secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
  })),
  jwks: config.jwks,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'https://chargegate.test/rs256',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const alg = ALGS[resource.split('/').pop()];
        if (!alg) throw new Error(`unknown resource ${resource}`);
        return {
          scope: 'charge',
          audience: 'chargegate',
          accessTokenTTL: config.ttl ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        };
      },
    },
  },
  extraTokenClaims: (ctx, token) => (drivers[token.clientId] ? { driver: drivers[token.clientId] } : undefined),
});
provider.on('server_error', (ctx, err) => console.error('server_error', err.message));
provider.proxy = false;
const server = provider.listen(config.port, '127.0.0.1', () => console.log(`listening ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
