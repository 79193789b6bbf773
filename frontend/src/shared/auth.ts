// OAuth 2.0 authorization code flow with PKCE (S256) for a public browser
// client, against any OpenID provider (spec/oauth.md). The page keeps the
// access token in sessionStorage (this tab only) and sends it nowhere but
// to this server: Switchboard never sees a password.
import { base64url, randomString } from './ids';
import { sessionStore } from './storage';
import type { FrontendConfig } from './types';

export interface Session {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  refreshToken?: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  authorization_response_iss_parameter_supported?: boolean;
}

interface Pending {
  state: string;
  verifier: string;
  redirectUri: string;
}

export class AuthError extends Error {}

/** Renew this long before an access token expires. */
export const RENEW_EARLY_MS = 60_000;

/**
 * Keeps a session's access token fresh: renews it RENEW_EARLY_MS before it
 * expires (expiresAt: null when it cannot be renewed), then again after
 * each renewal, and hands each new token to use.
 */
export class Renewal {
  private timer = 0;

  constructor(
    private readonly expiresAt: () => number | null,
    private readonly renew: () => Promise<{ accessToken: string } | null>,
  ) {}

  start(use: (accessToken: string) => void): void {
    this.stop();
    const at = this.expiresAt();
    if (at === null) return;
    this.timer = window.setTimeout(
      async () => {
        const fresh = await this.renew();
        if (fresh) {
          use(fresh.accessToken);
          this.start(use);
        }
      },
      Math.max(5_000, at - Date.now() - RENEW_EARLY_MS),
    );
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Whether a query string is an authorization response (code or error). */
export function isAuthResponse(params: URLSearchParams): boolean {
  return params.has('state') && (params.has('code') || params.has('error'));
}

export class Auth {
  private discovery?: Promise<Discovery>;
  private readonly renewal = new Renewal(
    () => {
      const s = this.session();
      return s?.refreshToken ? s.expiresAt : null;
    },
    () => this.refresh(),
  );
  private readonly pendingKey: string;

  constructor(
    private readonly cfg: FrontendConfig,
    private readonly key: string,
    private readonly store: Storage = sessionStore(),
  ) {
    this.pendingKey = key + ':pending';
  }

  private discover(): Promise<Discovery> {
    if (!this.discovery) {
      const p = (async () => {
        const url = this.cfg.issuer.replace(/\/$/, '') + '/.well-known/openid-configuration';
        const res = await fetch(url, { headers: { Accept: 'application/json' } });
        if (!res.ok) throw new AuthError(`The sign-in provider did not answer (HTTP ${res.status}).`);
        const d = (await res.json()) as Discovery;
        // RFC 8414 §3.3: the document must name the issuer we asked.
        if (d.issuer !== this.cfg.issuer) throw new AuthError('The sign-in provider names another issuer.');
        return d;
      })();
      p.catch(() => {
        if (this.discovery === p) this.discovery = undefined;
      });
      this.discovery = p;
    }
    return this.discovery;
  }

  /** The stored session, even an expired one (see token). */
  session(): Session | null {
    const raw = this.store.getItem(this.key);
    if (!raw) return null;
    try {
      const s = JSON.parse(raw) as Session;
      if (typeof s.accessToken === 'string' && typeof s.expiresAt === 'number') return s;
    } catch {
      /* ignore a corrupt entry */
    }
    return null;
  }

  /** The access token, or null if there is none or it has expired. */
  token(): string | null {
    const s = this.session();
    return s && s.expiresAt > Date.now() ? s.accessToken : null;
  }

  /** Starts a sign-in: returns the provider's authorization URL. */
  async authorizeUrl(redirectUri: string): Promise<string> {
    if (!crypto.subtle) throw new AuthError('Signing in needs a secure page (https, or http on this machine).');
    const d = await this.discover();
    const verifier = randomString(32);
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    const state = randomString(16);
    const pending: Pending = { state, verifier, redirectUri };
    this.store.setItem(this.pendingKey, JSON.stringify(pending));
    const u = new URL(d.authorization_endpoint);
    const q = u.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', this.cfg.clientId);
    q.set('redirect_uri', redirectUri);
    q.set('scope', this.cfg.scope || 'openid');
    q.set('state', state);
    q.set('code_challenge', base64url(new Uint8Array(digest)));
    q.set('code_challenge_method', 'S256');
    // The API's identifier, for providers that pick the token's audience
    // from it (Auth0); others ignore it.
    if (this.cfg.audience) q.set('audience', this.cfg.audience);
    return u.toString();
  }

  /** Completes a sign-in from the authorization response's query. */
  async completeSignIn(params: URLSearchParams): Promise<Session> {
    const raw = this.store.getItem(this.pendingKey);
    this.store.removeItem(this.pendingKey);
    if (!raw) throw new AuthError('This sign-in was not started here or is already complete. Please sign in again.');
    const pending = JSON.parse(raw) as Pending;
    if (params.get('state') !== pending.state) throw new AuthError('The sign-in response does not match. Please sign in again.');
    const d = await this.discover();
    // RFC 9207: a response naming another issuer is a mix-up attack.
    const iss = params.get('iss');
    if ((iss !== null && iss !== d.issuer) || (iss === null && d.authorization_response_iss_parameter_supported)) {
      throw new AuthError('The sign-in response comes from another issuer.');
    }
    const error = params.get('error');
    if (error) throw new AuthError(`Sign-in failed: ${params.get('error_description') || error}`);
    const code = params.get('code');
    if (!code) throw new AuthError('The sign-in response has no code.');
    return this.tokenRequest(
      d,
      new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: pending.redirectUri,
        client_id: this.cfg.clientId,
        code_verifier: pending.verifier,
      }),
    );
  }

  /** Renews the access token with the refresh token, if the provider gave one. */
  async refresh(): Promise<Session | null> {
    const s = this.session();
    if (!s?.refreshToken) return null;
    try {
      const d = await this.discover();
      return await this.tokenRequest(
        d,
        new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.refreshToken, client_id: this.cfg.clientId }),
        s.refreshToken,
      );
    } catch {
      return null;
    }
  }

  /**
   * Renews the token a minute before it expires, if the provider gave a
   * refresh token, and hands each new access token to use.
   */
  keepFresh(use: (accessToken: string) => void): void {
    this.renewal.start(use);
  }

  signOut(): void {
    this.renewal.stop();
    this.store.removeItem(this.key);
    this.store.removeItem(this.pendingKey);
  }

  private async tokenRequest(d: Discovery, body: URLSearchParams, previousRefresh?: string): Promise<Session> {
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body,
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof json.access_token !== 'string') {
      const why = json.error_description || json.error || `HTTP ${res.status}`;
      throw new AuthError(`The sign-in provider refused the token request: ${String(why)}`);
    }
    if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer') {
      throw new AuthError('The sign-in provider returned an unexpected token type.');
    }
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 300;
    const s: Session = {
      accessToken: json.access_token,
      expiresAt: Date.now() + expiresIn * 1000,
      refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : previousRefresh,
    };
    this.store.setItem(this.key, JSON.stringify(s));
    return s;
  }
}
