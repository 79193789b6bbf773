// The REST API (GET /api/v1/tickets, /api/v1/tickets/{id}/messages) with
// the access token as a bearer token.
import type { Message, Ticket } from './types';

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

  private async get<T>(path: string): Promise<T> {
    const token = this.token();
    if (!token) throw new ApiError(401, 'TOKEN_MISSING', 'not signed in');
    const res = await fetch(path, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      throw new ApiError(res.status, body.code ?? 'HTTP', body.message ?? `HTTP ${res.status}`);
    }
    return (await res.json()) as T;
  }

  /** Tickets the caller may see, optionally of one status. */
  tickets(status?: number): Promise<Ticket[]> {
    return this.get<Ticket[]>('/api/v1/tickets' + (status ? `?status=${status}` : ''));
  }

  /** A ticket's messages in commit order, after the message `since` (exclusive) if given. */
  messages(ticketId: string, since?: string): Promise<Message[]> {
    const q = since ? `?since=${encodeURIComponent(since)}` : '';
    return this.get<Message[]>(`/api/v1/tickets/${encodeURIComponent(ticketId)}/messages${q}`);
  }
}
