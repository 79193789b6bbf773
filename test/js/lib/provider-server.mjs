// A real OpenID provider (panva's oidc-provider) for the conformance suite.
//
//   node lib/provider-server.mjs [port]
//
// Listens on 127.0.0.1 (port 0 = any free port) and prints one line
// `ready <issuer>` on stdout when it accepts requests. The issuer is
// `http://127.0.0.1:<port>` (no trailing slash, no path).
//
// Access tokens are JWTs (RFC 9068, header typ "at+jwt", RS256) for the
// resource server whose audience is "switchboard":
//   resource urn:switchboard        aud switchboard, 1 h
//   resource urn:switchboard:short  aud switchboard, SHORT_TTL seconds (3)
//   resource urn:other-api          aud other-api (wrong-audience tests)
// Claims added to access tokens (extraTokenClaims):
//   operators: roles ["operator"] (operator-1 also "admin", supervisor-1
//   also "supervisor"), name;
//   users: name;
//   program clients (client_credentials): program_id = client id;
//   everyone: tenant (acme, or beta for beta-1 and beta-2), which the
//   server reads only when started with SWITCHBOARD_OIDC_TENANT_CLAIM=tenant.
//
// For the benchmark (bench/), which needs thousands of identities and
// tokens that outlive one run of the provider:
//   PROVIDER_NUMBERED_ACCOUNTS=1  any `operator-<n>` (role operator) and
//                                 `user-<n>` exists, besides the six below;
//   PROVIDER_KEY_FILE=<file>      the signing key is read from the file (or
//                                 generated and written there), so tokens
//                                 stay valid when the provider restarts on
//                                 the same port;
//   PROVIDER_TOKEN_TTL=<seconds>  lifetime of urn:switchboard tokens (3600).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const SHORT_TTL = Number(process.env.SHORT_TTL || 3);

const ACCOUNTS = {
  'operator-1': { name: 'Operator One', roles: ['operator', 'admin'] },
  'operator-2': { name: 'Operator Two', roles: ['operator'] },
  'operator-3': { name: 'Operator Three', roles: ['operator'] },
  'supervisor-1': { name: 'Supervisor One', roles: ['operator', 'supervisor'] },
  'user-1': { name: 'User One' },
  'user-2': { name: 'User Two' },
  'user-3': { name: 'User Three' },
  'beta-1': { name: 'Beta One', tenant: 'beta' },
  'beta-2': { name: 'Beta Two', tenant: 'beta' },
};

/** The account for a login name, or undefined. */
function account(id) {
  if (Object.hasOwn(ACCOUNTS, id)) return ACCOUNTS[id];
  if (process.env.PROVIDER_NUMBERED_ACCOUNTS !== '1') return undefined;
  let m = /^operator-(\d+)$/.exec(id);
  if (m) return { name: `Operator ${m[1]}`, roles: ['operator'] };
  m = /^user-(\d+)$/.exec(id);
  if (m) return { name: `User ${m[1]}` };
  return undefined;
}

const PROGRAMS = {
  'program-42': 'program-42-secret',
  'program-7': 'program-7-secret',
};

const RESOURCES = {
  'urn:switchboard': { audience: 'switchboard', ttl: Number(process.env.PROVIDER_TOKEN_TTL || 3600) },
  'urn:switchboard:short': { audience: 'switchboard', ttl: SHORT_TTL },
  'urn:other-api': { audience: 'other-api', ttl: 3600 },
};

const REDIRECT_URI = 'http://127.0.0.1:1/callback';

function resourceServer(indicator) {
  const r = RESOURCES[indicator];
  if (!r) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
  return {
    scope: 'chat',
    audience: r.audience,
    accessTokenTTL: r.ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };
}

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}
const keyFile = process.env.PROVIDER_KEY_FILE;
let signingKey;
if (keyFile && fs.existsSync(keyFile)) {
  signingKey = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
} else {
  signingKey = newSigningKey();
  if (keyFile) fs.writeFileSync(keyFile, JSON.stringify(signingKey), { mode: 0o600 });
}

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    // Public browser client (dashboard / widget): authorization code + PKCE.
    // Its id equals the API audience on purpose, so that an ID token issued
    // to it carries aud "switchboard" and only its header typ and its
    // nonce/at_hash tell it apart from an access token.
    {
      client_id: 'switchboard',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
    },
    // A client of another API: its tokens have aud "other-api".
    {
      client_id: 'other-app',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
    },
    {
      client_id: 'other-app-service',
      client_secret: 'other-app-service-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
    ...Object.entries(PROGRAMS).map(([client_id, client_secret]) => ({
      client_id,
      client_secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    })),
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'profile', 'chat'],
  async findAccount(ctx, id) {
    const acct = account(id);
    if (!acct) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: acct.name, preferred_username: id };
      },
    };
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return undefined;
    if (token.accountId) {
      const acct = account(token.accountId);
      if (!acct) return undefined;
      const claims = { name: acct.name, tenant: acct.tenant ?? 'acme' };
      if (acct.roles) claims.roles = acct.roles;
      return claims;
    }
    if (PROGRAMS[token.clientId]) return { program_id: token.clientId, tenant: 'acme' };
    return undefined;
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf;
        return client?.clientId?.startsWith('other-app') ? 'urn:other-api' : 'urn:switchboard';
      },
      async useGrantedResource() { return true; },
      async getResourceServerInfo(ctx, indicator) { return resourceServer(indicator); },
    },
  },
  pkce: { required: () => true },
  ttl: {
    AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
    ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Grant: 3600,
    Interaction: 600,
    Session: 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

provider.on('server_error', (ctx, err) => console.error('provider server_error', err));

server.on('request', provider.callback());
process.stdout.write(`ready ${issuer}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Die with the parent: the test runner's stdin pipe closes when it exits.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
