// The REST API (tickets, their messages, the operator roster) with the
// access token as a bearer token.
import type {
  Alert,
  Availability,
  CannedResponse,
  Label,
  Message,
  Note,
  Operator,
  Overview,
  Report,
  SearchHit,
  Team,
  Ticket,
} from './types';

/** Items a page may hold: the server's maximum. */
const PAGE = 500;
/** Tickets one listing loads: the newest, as the dashboard shows them. */
const MAX_TICKETS = 1000;

/** The target of a Link header's rel="next", or null on the last page. */
export function nextPage(link: string | null): string | null {
  const m = link ? /<([^>]*)>\s*;\s*rel="?next"?/.exec(link) : null;
  return m ? m[1] : null;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

const enc = encodeURIComponent;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(private readonly token: () => string | null) {}

  private async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  private async send(method: Method, path: string, body?: unknown): Promise<Response> {
    const token = this.token();
    if (!token) throw new ApiError(401, 'TOKEN_MISSING', 'not signed in');
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(res.status, body.code ?? 'HTTP', body.message ?? `HTTP ${res.status}`);
    }
    return res;
  }

  /**
   * A list's pages, following each page's Link rel="next", until the last
   * or until `max` items are in (the server sends at most 500 a page).
   */
  private async list<T>(path: string, max = Infinity): Promise<T[]> {
    const out: T[] = [];
    for (let next: string | null = path; next && out.length < max; ) {
      const res = await this.send('GET', next);
      out.push(...((await res.json()) as T[]));
      next = nextPage(res.headers.get('Link'));
    }
    return out.slice(0, max);
  }

  /** Tickets the caller may see, newest first, optionally of one status; at most MAX_TICKETS. */
  tickets(status?: number): Promise<Ticket[]> {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set('status', String(status));
    return this.list<Ticket>(`/api/v1/tickets?${q}`, MAX_TICKETS);
  }

  /** One ticket by id. */
  ticket(ticketId: string): Promise<Ticket> {
    return this.request('GET', `/api/v1/tickets/${enc(ticketId)}`);
  }

  /** A ticket's messages in commit order, after the message `since` (exclusive) if given. */
  messages(ticketId: string, since?: string): Promise<Message[]> {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (since) q.set('since', since);
    return this.list<Message>(`/api/v1/tickets/${encodeURIComponent(ticketId)}/messages?${q}`);
  }

  /** The tenant's operators with their status and presence (operators only). */
  operators(): Promise<Operator[]> {
    return this.list<Operator>(`/api/v1/operators?limit=${PAGE}`);
  }

  /** The tenant's teams with their members (operators only). */
  teams(): Promise<Team[]> {
    return this.request('GET', '/api/v1/teams');
  }

  /** Whether the team ('' = the whole tenant) takes live chats now. */
  availability(team = ''): Promise<Availability> {
    return this.request('GET', `/api/v1/availability?${new URLSearchParams({ team })}`);
  }

  /** Sets the caller's own status (AVAILABLE, BUSY, AWAY, ...). */
  setMyStatus(status: string): Promise<{ status: string }> {
    return this.request('PUT', '/api/v1/operators/me/status', { status });
  }

  // ------------------------------------------------------------ operator tools

  /** Canned responses: the tenant's and the caller's own. */
  async cannedResponses(): Promise<CannedResponse[]> {
    return (await this.request<{ items: CannedResponse[] }>('GET', '/api/v1/canned-responses')).items;
  }

  createCanned(c: { shortcut: string; text: string; scope: CannedResponse['scope'] }): Promise<CannedResponse> {
    return this.request('POST', '/api/v1/canned-responses', c);
  }

  updateCanned(id: string, c: { shortcut?: string; text?: string }): Promise<CannedResponse> {
    return this.request('PUT', `/api/v1/canned-responses/${enc(id)}`, c);
  }

  deleteCanned(id: string): Promise<void> {
    return this.request('DELETE', `/api/v1/canned-responses/${enc(id)}`);
  }

  async labels(): Promise<Label[]> {
    return (await this.request<{ items: Label[] }>('GET', '/api/v1/labels')).items;
  }

  createLabel(l: { name: string; color: string }): Promise<Label> {
    return this.request('POST', '/api/v1/labels', l);
  }

  updateLabel(id: string, l: { name?: string; color?: string }): Promise<Label> {
    return this.request('PUT', `/api/v1/labels/${enc(id)}`, l);
  }

  deleteLabel(id: string): Promise<void> {
    return this.request('DELETE', `/api/v1/labels/${enc(id)}`);
  }

  /** Puts a label on a ticket (on) or takes it off; answers the ticket. */
  labelTicket(ticketId: string, labelId: string, on: boolean): Promise<Ticket> {
    return this.request(on ? 'PUT' : 'DELETE', `/api/v1/tickets/${enc(ticketId)}/labels/${enc(labelId)}`);
  }

  async notes(ticketId: string): Promise<Note[]> {
    return (await this.request<{ items: Note[] }>('GET', `/api/v1/tickets/${enc(ticketId)}/notes`)).items;
  }

  alerts(): Promise<{ items: Alert[]; unreadCount: number }> {
    return this.request('GET', '/api/v1/alerts?limit=50');
  }

  readAlert(id: string): Promise<Alert> {
    return this.request('POST', `/api/v1/alerts/${enc(id)}/read`);
  }

  readAllAlerts(): Promise<{ read: number }> {
    return this.request('POST', '/api/v1/alerts/read-all');
  }

  /** One page of a ticket search; the filters as the server names them. */
  search(filters: Record<string, string>, cursor?: string): Promise<{ items: SearchHit[]; next?: string }> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    return this.request('GET', `/api/v1/search/tickets?${q}`);
  }

  overview(): Promise<Overview> {
    return this.request('GET', '/api/v1/supervisor/overview');
  }

  report(filters: Record<string, string>): Promise<Report> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return this.request('GET', `/api/v1/reports?${q}`);
  }

  /** The report's per-day rows as CSV text (format=csv). */
  async reportCsv(filters: Record<string, string>): Promise<string> {
    const q = new URLSearchParams({ format: 'csv' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return (await this.send('GET', `/api/v1/reports?${q}`)).text();
  }
}
