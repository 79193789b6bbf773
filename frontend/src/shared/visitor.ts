// A website visitor's token from Switchboard itself (POST /api/v1/visitors),
// for deployments whose end users have no account at an OpenID provider.
// The refresh token is kept in localStorage, so that a returning visitor is
// the same visitor and finds its conversation. Each refresh token works
// once (the server refuses a spent one and revokes its successors), so the
// tabs of one browser renew one at a time, under a Web Lock, and a tab
// takes what another has just renewed instead of spending its copy.
import { RENEW_EARLY_MS, Renewal, type Session } from './auth';
import { localStore } from './storage';

/** POST /api/v1/visitors's answer, named as an OAuth token response. */
interface Grant {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  visitor_id: string;
}

interface StoredVisitor extends Session {
  visitorId: string;
  /** The site's user id this visitor was identified as ('' if anonymous). */
  siteUser: string;
}

export class VisitorError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The userId an identity claims (not verified here: the server does). */
function claimedUser(identity: string | null): string {
  if (!identity) return '';
  try {
    const part = identity.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part)) as { userId?: unknown };
    return typeof claims.userId === 'string' ? claims.userId : '';
  } catch {
    return '';
  }
}

export class VisitorAuth {
  private readonly renewal = new Renewal(
    () => this.session()?.expiresAt ?? null,
    () => this.refresh(),
  );

  constructor(
    private readonly key: string,
    /** The identity the site signed for its user, if any. */
    private readonly identity: string | null,
    private readonly store: Storage = localStore(),
  ) {}

  /** The stored visitor, if it is the one this page is for. */
  session(): StoredVisitor | null {
    const raw = this.store.getItem(this.key);
    if (!raw) return null;
    try {
      const s = JSON.parse(raw) as StoredVisitor;
      if (typeof s.accessToken !== 'string' || typeof s.refreshToken !== 'string') return null;
      // Another user signed in at the site: not this visitor.
      if ((s.siteUser ?? '') !== claimedUser(this.identity) && this.identity) return null;
      return s;
    } catch {
      return null;
    }
  }

  /** The access token, or null if there is none or it has expired. */
  token(): string | null {
    const s = this.session();
    return s && s.expiresAt > Date.now() ? s.accessToken : null;
  }

  /** A usable session: the stored one, else renewed, else a new visitor. */
  async ensure(): Promise<StoredVisitor> {
    const s = this.session();
    if (s && s.expiresAt > Date.now() + RENEW_EARLY_MS) return s;
    const renewed = await this.refresh();
    if (renewed) return renewed;
    return this.exclusive(async () => {
      const now = this.session();
      if (now && now.expiresAt > Date.now() + RENEW_EARLY_MS) return now; // another tab made one
      return this.request(this.identity ? { identity: this.identity } : {});
    });
  }

  /**
   * Renews the access token with the refresh token. null when there is
   * none or the server refused it (then the visitor is forgotten).
   */
  async refresh(): Promise<StoredVisitor | null> {
    const before = this.session();
    if (!before) return null;
    return this.exclusive(async () => {
      const s = this.session();
      if (!s) return null;
      // Another tab renewed while this one waited: take its token.
      if (s.refreshToken !== before.refreshToken && s.expiresAt > Date.now() + RENEW_EARLY_MS) return s;
      try {
        return await this.request({ refresh_token: s.refreshToken });
      } catch (e) {
        if (e instanceof VisitorError && (e.code === 'TOKEN_INVALID' || e.code === 'INVALID_REQUEST')) {
          this.store.removeItem(this.key);
        }
        return null;
      }
    });
  }

  /** Renews the token a minute before it expires and hands each new one to use. */
  keepFresh(use: (accessToken: string) => void): void {
    this.renewal.start(use);
  }

  signOut(): void {
    this.renewal.stop();
    this.store.removeItem(this.key);
  }

  /** Runs f alone among this browser's tabs (where Web Locks exist). */
  private exclusive<T>(f: () => Promise<T>): Promise<T> {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    return locks ? (locks.request(this.key, f) as Promise<T>) : f();
  }

  private async request(body: object): Promise<StoredVisitor> {
    const res = await fetch('/api/v1/visitors', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Partial<Grant> & { code?: string; message?: string };
    if (!res.ok || typeof json.access_token !== 'string' || typeof json.refresh_token !== 'string') {
      throw new VisitorError(json.message || `The chat server refused (HTTP ${res.status}).`, json.code || 'HTTP_' + res.status);
    }
    const s: StoredVisitor = {
      accessToken: json.access_token,
      expiresAt: Date.now() + (json.expires_in ?? 300) * 1000,
      refreshToken: json.refresh_token,
      visitorId: json.visitor_id ?? '',
      siteUser: claimedUser(this.identity),
    };
    this.store.setItem(this.key, JSON.stringify(s));
    return s;
  }
}
