// Wire shapes of the livechat protocol (shared/spec/livechat.md) and of the
// server's /frontend-config.json.

export const TicketStatus = { New: 100, Open: 200, Closed: 10000 } as const;
export const MessageStatus = { Sent: 1, Delivered: 2, Read: 3 } as const;

export interface Principal {
  userId: string;
  displayNm: string;
  roles: string[];
  programId?: string;
  expiresAt: string;
}

/** queuePosition: a waiting ticket's place in the queue (1 = next). */
export interface QueuePosition {
  ticketId: string;
  position: number;
  /** null until the server has recent accepts to estimate from. */
  estimatedWaitSeconds: number | null;
}

export interface Ticket {
  ticketId: string;
  displayNm: string;
  ticketNm: string;
  statusId: number;
  createdAt: string;
  handleById: string;
  handleByNm: string;
  lastResponseAt: string;
  ownerId: string;
  ownerNm: string;
  programId: string;
  isExternal: boolean;
  /** What the widget knew of the visitor (page, browser, the site's attributes). */
  visitorContext?: Record<string, string>;
  /** The team the ticket is for; absent for none. */
  teamId?: string;
  /** Its labels' ids (operators only). */
  labels?: string[];
  /** The user's satisfaction rating once closed and rated; null until then. */
  rating?: Rating | null;
}

/** A ticket's satisfaction rating (CSAT): 1 to 5 and an optional comment. */
export interface Rating {
  score: number;
  comment: string;
  at: string;
}

export interface Message {
  ticketId: string;
  recipientId: string;
  recipientNm: string;
  messageId: string;
  content: string;
  type: number; // 1 text, 2 image (base64)
  encoding: string;
  createdAt: string;
  statusId: number; // 1 sent, 2 delivered, 3 read
  senderId: string;
  senderNm: string;
  programId: string;
  /** Its reactions, as the history (REST) gives them; live updates are reactions.tsx's. */
  reactions?: Reaction[];
  /** Client-side only: not yet acknowledged by the server. */
  pending?: boolean;
  /** Client-side only: the server refused it. */
  failed?: string;
}

/** One operator of the roster (GET /api/v1/operators). */
export interface Operator {
  operatorId: string;
  displayNm: string;
  status: string; // AVAILABLE, BUSY, CONFERENCE, INVISIBLE, AWAY
  online: boolean;
}

export interface Team {
  teamId: string;
  name: string;
  email: string;
  members: string[];
}

/** ticketTransferred's second argument: where the ticket went, by whom, the note. */
export interface Transfer {
  teamId: string;
  operatorId: string;
  note: string;
  byId: string;
  byNm: string;
}

/** GET /api/v1/availability: whether a live chat is possible now, and if not why. */
export interface Availability {
  open: boolean;
  /** 'hours' (outside business hours), 'nobody-online', or '' when open. */
  reason: '' | 'hours' | 'nobody-online';
  /** When the hours begin again (ISO 8601), if known. */
  nextOpenAt?: string;
}

/** A canned response (GET /api/v1/canned-responses). */
export interface CannedResponse {
  id: string;
  shortcut: string;
  text: string;
  scope: 'tenant' | 'personal';
  ownerId?: string;
  updatedAt: string;
}

/** A tenant's label; openCount: the new or open tickets that carry it. */
export interface Label {
  id: string;
  name: string;
  color: string;
  openCount: number;
}

/** An internal note: operators only, never the user. */
export interface Note {
  id: string;
  ticketId: string;
  authorId: string;
  authorNm: string;
  content: string;
  mentions: string[];
  createdAt: string;
  isNote: true;
  /** Client-side only: not yet acknowledged by the server. */
  pending?: boolean;
  /** Client-side only: the server refused it. */
  failed?: string;
}

/** What an operator is told about personally (a mention). */
export interface Alert {
  id: string;
  kind: string;
  ticketId: string;
  noteId?: string;
  messageId?: string;
  byId: string;
  byNm: string;
  text: string;
  createdAt: string;
  readAt?: string;
}

/** One search result: the ticket and its best matching line, highlights in UTF-8 byte offsets. */
export interface SearchHit {
  ticket: Ticket;
  match?: { messageId: string; text: string; highlights: [number, number][] };
}

/** GET /api/v1/supervisor/overview. */
export interface Overview {
  operators: {
    id: string;
    name: string;
    status: string;
    online: boolean;
    load: number;
    capacity: number;
    tickets: string[];
  }[];
  queue: { ticketId: string; ticketNm: string; ownerNm: string; team: string; waitingSeconds: number }[];
}

export interface Distribution {
  count?: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
  histogram: { upToSeconds: number | null; count: number }[];
}

export interface ReportGroup {
  tickets: number;
  firstResponseMedianSeconds: number | null;
  resolutionMedianSeconds: number | null;
  csatAverage: number | null;
}

/** GET /api/v1/reports. */
export interface Report {
  from: string;
  to: string;
  days: {
    date: string;
    created: number;
    closed: number;
    firstResponseMedianSeconds: number | null;
    resolutionMedianSeconds: number | null;
  }[];
  firstResponse: Distribution;
  resolution: Distribution;
  csat: { average: number | null; count: number; distribution: Record<string, number> };
  operators: (ReportGroup & { operatorId: string; name: string })[];
  teams: (ReportGroup & { team: string })[];
}

export interface LivechatError {
  code: string;
  message: string;
}

export interface DemoAccount {
  id: string;
  name: string;
}

export interface FrontendConfig {
  issuer: string;
  clientId: string;
  audience: string;
  scope: string;
  devIssuer: boolean;
  /**
   * How the widget gets its token: 'anonymous' or 'identified' from the
   * server itself (POST /api/v1/visitors), 'oidc' by signing in.
   */
  visitors?: 'anonymous' | 'identified' | 'oidc';
  /** Demo operators of the development issuer, to pick whom to assign to. */
  demoOperators?: DemoAccount[];
}

export async function loadConfig(): Promise<FrontendConfig> {
  const res = await fetch('/frontend-config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`configuration: HTTP ${res.status}`);
  return (await res.json()) as FrontendConfig;
}

/** One user's emoji on a message (messageReactionsUpdated, the history). */
export interface Reaction {
  emoji: string;
  userId: string;
  userNm: string;
}

/** Message type 5: a program's bot message (its content may name users as @<id>). */
export const BotMessageType = 5;
