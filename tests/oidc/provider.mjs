// A real OpenID Connect provider for the browser tests: the npm `oidc-provider` package (a certified OP
// implementation), configured with one confidential client for Catalyst and its built-in development login
// and consent pages. Any login name is accepted; the account's claims follow from it:
//   <name>@example.com as e-mail, verified; groups by name —
//   "oidc-admin" → ["catalyst-admins"], "oidc-dev" → ["acme-devs"], anything else → [].
// A suffix makes another identity (its own `sub`) with the same e-mail whose verification differs:
//   "<name>+unverified" → email_verified: false;  "<name>+unstated" → no email_verified claim at all.
// The single sign-on tests use them to check that an unverified address never reaches an existing account.
//
// Environment: OIDC_PORT (required), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma-separated).
// Prints "oidc-provider listening on <issuer>" when ready. Test-only: development keys, no persistence.

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
if (!port) {
  console.error('OIDC_PORT is required');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.OIDC_CLIENT_ID ?? 'catalyst';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'catalyst-test-secret';
const redirectUris = (process.env.OIDC_REDIRECT_URIS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (redirectUris.length === 0) {
  console.error('OIDC_REDIRECT_URIS is required');
  process.exit(2);
}

const GROUPS = {
  'oidc-admin': ['catalyst-admins'],
  'oidc-dev': ['acme-devs'],
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Put the granted claims into the ID token too (Catalyst reads both it and the userinfo endpoint).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['catalyst-test-only-cookie-key'] },
  async findAccount(_ctx, id) {
    const login = String(id).toLowerCase().replace(/[^a-z0-9._+-]/g, '') || 'user';
    const [name, mode] = login.split('+', 2);
    return {
      accountId: login,
      async claims() {
        const claims = {
          sub: login,
          email: `${name || 'user'}@example.com`,
          name: (name || 'user').replace(/[-_.]/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
          groups: GROUPS[name] ?? [],
        };
        if (mode === 'unverified') claims.email_verified = false;
        else if (mode !== 'unstated') claims.email_verified = true;
        return claims;
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
