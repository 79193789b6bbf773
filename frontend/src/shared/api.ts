// The REST API (tickets, their messages, the operator roster) with the
// access token as a bearer token.
import type { Message, Operator, Ticket } from './types';

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

  private async request<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
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
    return (await res.json()) as T;
  }

  private get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
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

  /** The tenant's operators with their status and presence (operators only). */
  operators(): Promise<Operator[]> {
    return this.get<Operator[]>('/api/v1/operators');
  }

  /** Sets the caller's own status (AVAILABLE, BUSY, AWAY, ...). */
  setMyStatus(status: string): Promise<{ status: string }> {
    return this.request('PUT', '/api/v1/operators/me/status', { status });
  }
}
