// Tokens from the real OpenID provider, obtained the way clients obtain them:
// users and operators through authorization code + PKCE driven over HTTP
// against the provider's login and consent pages (cookies, redirects, form
// posts); programs through client_credentials. Nothing is hand-signed.
import * as crypto from 'node:crypto';

import { currentProvider } from './provider.mjs';

const REDIRECT_URI = 'http://127.0.0.1:1/callback';
const PROGRAM_SECRETS = {
  'program-42': 'program-42-secret',
  'program-7': 'program-7-secret',
  'other-app-service': 'other-app-service-secret',
};

function issuer() {
  const p = currentProvider();
  if (!p) throw new Error('provider not started (call startProvider() first)');
  return p.issuer;
}

class CookieJar {
  constructor() { this.cookies = new Map(); }
  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.split('=').map((x) => x?.trim().toLowerCase());
        return (k === 'max-age' && Number(v) <= 0) || (k === 'expires' && Date.parse(v) < Date.now());
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
}

async function request(jar, url, init = {}) {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers || {}), cookie: jar.header() },
  });
  jar.store(res);
  return res;
}

function formAction(html, base) {
  const m = /<form[^>]*action="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no form in interaction page: ${html.slice(0, 500)}`);
  return new URL(m[1].replace(/&amp;/g, '&'), base).href;
}

/**
 * Authorization code + PKCE for `login` against the provider's
 * devInteractions pages. Returns the token endpoint response
 * ({access_token, id_token, expires_in, ...}).
 */
export async function authorizationCodeFlow(login, { clientId = 'switchboard', resource = 'urn:switchboard' } = {}) {
  const iss = issuer();
  const jar = new CookieJar();
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomUUID();
  const nonce = crypto.randomUUID();
  const auth = new URL('/auth', iss);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile chat',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    resource,
  }).toString();

  let url = auth.href;
  let code;
  for (let step = 0; step < 20 && !code; step++) {
    const res = await request(jar, url);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const next = new URL(res.headers.get('location'), url);
      if (next.href.startsWith(REDIRECT_URI)) {
        if (next.searchParams.get('error')) {
          throw new Error(`authorization error: ${next.searchParams.get('error')}: ${next.searchParams.get('error_description')}`);
        }
        if (next.searchParams.get('state') !== state) throw new Error('state mismatch');
        code = next.searchParams.get('code');
        break;
      }
      url = next.href;
      continue;
    }
    const body = await res.text();
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${body.slice(0, 500)}`);
    // An interaction page: a login form or a consent form.
    const action = formAction(body, url);
    const form = /name="prompt" value="login"/.test(body)
      ? new URLSearchParams({ prompt: 'login', login, password: 'any' })
      : new URLSearchParams({ prompt: 'consent' });
    const post = await request(jar, action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    await post.arrayBuffer();
    if (post.status < 300 || post.status >= 400) throw new Error(`POST ${action}: ${post.status}`);
    url = new URL(post.headers.get('location'), action).href;
  }
  if (!code) throw new Error('authorization code flow did not finish');

  const res = await fetch(new URL('/token', iss), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: clientId,
      resource,
    }).toString(),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** client_credentials for a program client. Returns the token response. */
export async function clientCredentials(clientId, { resource } = {}) {
  const secret = PROGRAM_SECRETS[clientId];
  if (!secret) throw new Error(`unknown program client ${clientId}`);
  const params = new URLSearchParams({ grant_type: 'client_credentials', scope: 'chat' });
  if (resource) params.set('resource', resource);
  const res = await fetch(new URL('/token', issuer()), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    body: params.toString(),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const cache = new Map();
function cached(key, fn) {
  const iss = issuer();
  const k = `${iss} ${key}`;
  if (!cache.has(k)) {
    const p = fn();
    p.catch(() => cache.delete(k));
    cache.set(k, p);
  }
  return cache.get(k);
}

/** Access token (aud switchboard, 1 h) for an account, cached per name. */
export async function tokenFor(name, opts = {}) {
  if (opts.fresh) return (await authorizationCodeFlow(name)).access_token;
  const r = await cached(`code ${name}`, () => authorizationCodeFlow(name));
  return r.access_token;
}

/** The ID token of the same flow as tokenFor(name) (aud "switchboard" too). */
export async function idTokenFor(name) {
  const r = await cached(`code ${name}`, () => authorizationCodeFlow(name));
  return r.id_token;
}

/** A fresh access token for `name` that expires after the provider's SHORT_TTL (3 s). */
export async function expiringTokenFor(name) {
  return (await authorizationCodeFlow(name, { resource: 'urn:switchboard:short' })).access_token;
}

/** A valid access token for `name`, but for the audience "other-api". */
export async function wrongAudienceTokenFor(name) {
  const r = await cached(`other ${name}`, () => authorizationCodeFlow(name, { clientId: 'other-app', resource: 'urn:other-api' }));
  return r.access_token;
}

/** client_credentials access token of a program client (program_id claim = client id). */
export async function programToken(clientId = 'program-42', opts = {}) {
  if (opts.fresh || opts.resource) return (await clientCredentials(clientId, opts)).access_token;
  const r = await cached(`cc ${clientId}`, () => clientCredentials(clientId));
  return r.access_token;
}

/** Decoded header and payload of a JWT (no verification; for assertions and debugging). */
export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()),
  };
}
