// The livechat protocol as its users drive it: authenticate, subscribe,
// tickets from creation to close and reopen, messages both ways with
// receipts, typing, assignment and hijack, and a program acting for its
// end users. Every server event is checked for its exact positional
// arguments and object fields (spec/livechat.md).
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import {
  connect, connectPolling, authenticate, authResult, emitAck, nextEvent, noEvent, aboutTicket, aboutMessage, flush,
  getTickets, getMessages, sleep,
} from '../lib/server.mjs';
import { tokenFor, programToken, decodeJwt } from '../lib/tokens.mjs';
import {
  setupSuite, uuid, asUser, asOperator, asProgram, ticketObject, messageObject,
  assertTicket, assertMessage, assertOk, ISO_MS,
} from '../lib/harness.mjs';

setupSuite();

const T = 3000; // ms to wait for an event that must come
const Q = 400; // ms of silence that stands for "no event"

function assertPrincipal(p, expected, token) {
  assert.ok(p && typeof p === 'object', `principal is an object: ${JSON.stringify(p)}`);
  for (const k of Object.keys(p)) {
    assert.ok(['userId', 'displayNm', 'roles', 'programId', 'expiresAt'].includes(k), `unexpected principal field ${k}: ${JSON.stringify(p)}`);
  }
  assert.equal(p.userId, expected.userId);
  if (expected.displayNm !== undefined) assert.equal(p.displayNm, expected.displayNm);
  else assert.equal(typeof p.displayNm, 'string');
  assert.deepStrictEqual(p.roles, expected.roles);
  if (expected.programId) assert.equal(p.programId, expected.programId);
  else assert.ok(p.programId === undefined || p.programId === '', `no programId for ${expected.userId}: ${JSON.stringify(p)}`);
  assert.equal(typeof p.expiresAt, 'string');
  assert.match(p.expiresAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'expiresAt is ISO 8601 UTC');
  assert.equal(Math.floor(Date.parse(p.expiresAt) / 1000), decodeJwt(token).payload.exp, 'expiresAt is the token exp');
}

/** user creates a ticket; resolves the ticketCreated object seen by `observer` (an operator socket). */
async function createTicket(userSocket, observer, extra = {}) {
  const ticketId = uuid();
  const err = await emitAck(userSocket, 'createTicket', ticketId, ticketObject(ticketId, extra));
  assertOk(err, 'createTicket');
  const [t] = await nextEvent(observer, 'ticketCreated', T, aboutTicket(ticketId));
  return t;
}

describe('authentication', () => {
  test('authenticate event: principal of a user, an operator and a program', async () => {
    const cases = [
      ['user-1', await tokenFor('user-1'), { userId: 'user-1', displayNm: 'User One', roles: ['user'] }],
      ['operator-1', await tokenFor('operator-1'), { userId: 'operator-1', displayNm: 'Operator One', roles: ['operator'] }],
      ['program-42', await programToken('program-42'), { userId: 'program-42', roles: ['program'], programId: 'program-42' }],
    ];
    for (const [who, token, expected] of cases) {
      const s = await connect();
      const p = await authenticate(s, token);
      assertPrincipal(p, expected, token);
      // exactly one argument
      const all = s.__all.filter((e) => e.event === 'authenticated');
      assert.equal(all.length, 1, `${who}: one authenticated event`);
      assert.equal(all[0].args.length, 1, `${who}: authenticated(principal) has one argument`);
      s.close();
    }
  });

  test('handshake auth {accessToken} authenticates at connect', async () => {
    const token = await tokenFor('operator-2');
    const s = await connect(token);
    const p = await authResult(s);
    assertPrincipal(p, { userId: 'operator-2', displayNm: 'Operator Two', roles: ['operator'] }, token);
    assertOk(await emitAck(s, 'subscribeOperator'));
  });

  test('handshake auth {token} authenticates at connect', async () => {
    const token = await tokenFor('user-2');
    const s = await connect(null, { auth: { token } });
    const p = await authResult(s);
    assertPrincipal(p, { userId: 'user-2', displayNm: 'User Two', roles: ['user'] }, token);
    assertOk(await emitAck(s, 'subscribe', { userId: 'user-2' }));
  });

  test('a failed handshake auth leaves the socket connected for authenticate', async () => {
    const token = await tokenFor('user-1');
    const s = await connect('not-a-token');
    await assert.rejects(authResult(s), { code: 'TOKEN_INVALID' });
    assert.ok(s.connected);
    assertPrincipal(await authenticate(s, token), { userId: 'user-1', displayNm: 'User One', roles: ['user'] }, token);
  });

  test('no handshake token is not an error: nothing is pushed until authenticate', async () => {
    const token = await tokenFor('user-3');
    const s = await connect();
    await noEvent(s, 'unauthenticated', Q);
    await noEvent(s, 'authenticated', 0);
    assertPrincipal(await authenticate(s, token), { userId: 'user-3', displayNm: 'User Three', roles: ['user'] }, token);
  });

  test('polling transport works too', async () => {
    const token = await tokenFor('user-1');
    const s = await connectPolling();
    assertPrincipal(await authenticate(s, token), { userId: 'user-1', displayNm: 'User One', roles: ['user'] }, token);
    assertOk(await emitAck(s, 'subscribe', { userId: 'user-1' }));
    const op = await asOperator('operator-3');
    const t = await createTicket(s, op);
    assertTicket(t, { ownerId: 'user-1', statusId: 100 });
  });
});

describe('transport', () => {
  test('Engine.IO 4 handshake: ping 25 s / timeout 20 s, websocket upgrade, buffer above 1.5 MiB events', async () => {
    const { currentServer } = await import('../lib/server.mjs');
    const res = await fetch(`${currentServer().url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body[0], '0', `an OPEN packet: ${body.slice(0, 200)}`);
    const open = JSON.parse(body.slice(1));
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.ok(open.upgrades.includes('websocket'));
    assert.ok(open.maxPayload >= 1_400_000, `maxPayload ${open.maxPayload} fits a 1 MiB image as base64`);
  });

  test("one ticket's events reach a recipient in commit order", async () => {
    const user = await asUser('user-2');
    const op = await asOperator('operator-2');
    const t = await createTicket(user, op);
    assertOk(await emitAck(op, 'acceptTicket', t.ticketId, t, t.ownerId));
    await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    const ids = Array.from({ length: 25 }, () => uuid());
    // Fire them all without waiting for acks, then collect the acks.
    const acks = await Promise.all(ids.map((id, i) => emitAck(user, 'updateMessage', t.ticketId, id, messageObject(t.ticketId, id, `burst ${i}`), 'operator-2')));
    assert.deepEqual(acks, ids.map(() => null));
    const received = [];
    for (let i = 0; i < ids.length; i++) {
      const [m] = await nextEvent(op, 'messageUpdated', T, (a) => a[0]?.ticketId === t.ticketId);
      received.push(m.messageId);
    }
    const { messages } = await getMessages(await tokenFor('operator-2'), t.ticketId);
    assert.deepEqual(received, messages.map((m) => m.messageId), 'live order = commit order');
  });
});

describe('subscribe', () => {
  test('user subscribe with a userObject profile acks null and emits nothing else', async () => {
    const s = await connect();
    await authenticate(s, await tokenFor('user-3'));
    const err = await emitAck(s, 'subscribe', {
      userId: 'user-3',
      fullNm: 'User Three', // the token's name claim; precedence is tested at the end
      salutation: 'Ms',
      gender: 'F',
      dob: '1990-01-02T00:00:00.000Z',
      email: 'user3@example.test',
      latitude: 1.5,
      longitude: 103.8,
    });
    assertOk(err, 'subscribe');
    await sleep(Q);
    assert.deepEqual(s.__q.map((e) => e.event), [], 'subscribe emits nothing');
    assertOk(await emitAck(s, 'unsubscribe'), 'unsubscribe');
  });

  test('subscribeOperator joins operators; unsubscribeOperator leaves', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-2');
    await createTicket(user, op);
    assertOk(await emitAck(op, 'unsubscribeOperator'), 'unsubscribeOperator');
    const ticketId = uuid();
    assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)));
    await noEvent(op, 'ticketCreated', Q, aboutTicket(ticketId));
  });

  test('user unsubscribe leaves the user room', async () => {
    const user = await asUser('user-2');
    const other = await asUser('user-2');
    const op = await asOperator('operator-1');
    const t = await createTicket(user, op);
    assertOk(await emitAck(other, 'unsubscribe'));
    assertOk(await emitAck(op, 'acceptTicket', t.ticketId, t, t.ownerId));
    await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    await noEvent(other, 'ticketAccepted', Q, aboutTicket(t.ticketId));
  });
});

describe('a ticket from creation to close', () => {
  test('createTicket, accept, messages both ways, receipts, close, reopen', async () => {
    const user = await asUser('user-1');
    const user2nd = await asUser('user-1'); // the same user's other tab
    const op1 = await asOperator('operator-1');
    const op1b = await asOperator('operator-1'); // operator-1's other tab
    const op2 = await asOperator('operator-2');

    // createTicket: server fills the owner fields and ignores client values.
    const ticketId = uuid();
    const sent = ticketObject(ticketId, {
      displayNm: 'Billing question',
      ticketNm: 'Invoice 42',
      ownerId: 'someone-else',
      ownerNm: 'Spoofed',
      isExternal: true,
      programId: 'spoofed-program',
      createdAt: '2001-01-01T00:00:00.000Z',
    });
    assertOk(await emitAck(user, 'createTicket', ticketId, sent), 'createTicket');
    const expectNew = {
      ticketId,
      displayNm: 'Billing question',
      ticketNm: 'Invoice 42',
      statusId: 100,
      handleById: '',
      handleByNm: '',
      ownerId: 'user-1',
      ownerNm: 'User One',
      programId: '',
      isExternal: false,
    };
    for (const op of [op1, op2]) {
      const args = await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
      assert.equal(args.length, 1, 'ticketCreated(ticketObject)');
      assertTicket(args[0], expectNew);
      assert.notEqual(args[0].createdAt, '2001-01-01T00:00:00.000Z');
    }
    await noEvent(user2nd, 'ticketCreated', 0, aboutTicket(ticketId));

    // A message before accept: no handler, goes to operators, recipient "".
    const m0 = uuid();
    assertOk(await emitAck(user, 'updateMessage', ticketId, m0, messageObject(ticketId, m0, 'Is anyone there?'), ''), 'updateMessage m0');
    const expectM0 = {
      ticketId,
      messageId: m0,
      content: 'Is anyone there?',
      type: 1,
      encoding: 'utf-8',
      statusId: 1,
      senderId: 'user-1',
      senderNm: 'User One',
      recipientId: '',
      recipientNm: '',
      programId: '',
    };
    for (const s of [op1, op2, user2nd]) {
      const args = await nextEvent(s, 'messageUpdated', T, aboutMessage(m0));
      assert.equal(args.length, 1, 'messageUpdated(messageObject)');
      assertMessage(args[0], expectM0);
    }
    await noEvent(user, 'messageUpdated', 0, aboutMessage(m0));

    // acceptTicket: owner's room and operators get ticketAccepted.
    assertOk(await emitAck(op1, 'acceptTicket', ticketId, { ...expectNew, statusId: 200 }, 'user-1'), 'acceptTicket');
    const expectOpen = { ...expectNew, statusId: 200, handleById: 'operator-1', handleByNm: 'Operator One' };
    for (const s of [user, user2nd, op2]) {
      const args = await nextEvent(s, 'ticketAccepted', T, aboutTicket(ticketId));
      assert.equal(args.length, 1, 'ticketAccepted(ticketObject)');
      assertTicket(args[0], expectOpen);
    }

    // The pre-accept message is now addressed to the handler: delivered, then read.
    assertOk(await emitAck(op1, 'updateMessageStatus', m0, 2, '', 'user-1', true), 'm0 delivered');
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m0)), [m0, 2]);
    await noEvent(op2, 'ticketResponded', Q, aboutTicket(ticketId)); // delivered is still unread
    assertOk(await emitAck(op1, 'updateMessageStatus', m0, 3, '', 'user-1', false), 'm0 read');
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m0)), [m0, 3]);
    assert.deepStrictEqual(await nextEvent(op2, 'ticketResponded', T, aboutTicket(ticketId)), [ticketId],
      'ticketResponded(ticketId) when the handler read the unread user messages');

    // Operator → user, with spoofed server-owned fields.
    const m1 = uuid();
    const spoofed = messageObject(ticketId, m1, 'Hi, how can I help?', {
      senderId: 'user-2', senderNm: 'Spoof', createdAt: '2001-01-01T00:00:00.000Z', statusId: 3, recipientNm: 'x',
    });
    assertOk(await emitAck(op1, 'updateMessage', ticketId, m1, spoofed, 'user-1'), 'updateMessage m1');
    const expectM1 = {
      ticketId,
      messageId: m1,
      content: 'Hi, how can I help?',
      type: 1,
      encoding: 'utf-8',
      statusId: 1,
      senderId: 'operator-1',
      senderNm: 'Operator One',
      recipientId: 'user-1',
      recipientNm: 'User One',
      programId: '',
    };
    for (const s of [user, user2nd, op1b]) {
      const args = await nextEvent(s, 'messageUpdated', T, aboutMessage(m1));
      assert.equal(args.length, 1);
      assertMessage(args[0], expectM1);
    }
    await noEvent(op1, 'messageUpdated', 0, aboutMessage(m1)); // not the sending socket
    await noEvent(op2, 'messageUpdated', 0, aboutMessage(m1)); // not other operators once handled

    // The user confirms delivery and reading, as the source's snippets do.
    const [msg] = (user.__all.find((e) => e.event === 'messageUpdated' && e.args[0].messageId === m1)).args;
    assertOk(await emitAck(user, 'updateMessageStatus', msg.messageId, 2, msg.recipientId, msg.senderId, true), 'm1 delivered');
    for (const s of [op1, op1b]) {
      assert.deepStrictEqual(await nextEvent(s, 'messageStatusUpdated', T, aboutMessage(m1)), [m1, 2]);
    }
    assertOk(await emitAck(user, 'updateMessageStatus', msg.messageId, 3, msg.recipientId, msg.senderId, false), 'm1 read');
    assert.deepStrictEqual(await nextEvent(op1, 'messageStatusUpdated', T, aboutMessage(m1)), [m1, 3]);
    // A lower status is a no-op: ack null, no event.
    assertOk(await emitAck(user, 'updateMessageStatus', msg.messageId, 2, msg.recipientId, msg.senderId, true), 'm1 back to 2');
    await noEvent(op1, 'messageStatusUpdated', Q, aboutMessage(m1));
    // The same status again is a no-op too.
    assertOk(await emitAck(user, 'updateMessageStatus', msg.messageId, 3, msg.recipientId, msg.senderId, false), 'm1 read again');
    await noEvent(op1, 'messageStatusUpdated', Q, aboutMessage(m1));

    // User → handler: two messages, then the handler bulk-reads them.
    const m2 = uuid();
    const m3 = uuid();
    for (const [id, text] of [[m2, 'My invoice is wrong'], [m3, 'It says 42 instead of 24']]) {
      assertOk(await emitAck(user, 'updateMessage', ticketId, id, messageObject(ticketId, id, text), 'operator-1'));
      const [m] = await nextEvent(op1, 'messageUpdated', T, aboutMessage(id));
      assertMessage(m, {
        ticketId, messageId: id, content: text, statusId: 1, senderId: 'user-1', senderNm: 'User One',
        recipientId: 'operator-1', recipientNm: 'Operator One', programId: '',
      });
      await nextEvent(user2nd, 'messageUpdated', T, aboutMessage(id));
    }
    await noEvent(op2, 'messageUpdated', 0, (a) => [m2, m3].includes(a[0]?.messageId));
    assertOk(await emitAck(op1, 'updateMessageStatus', 'all', 3, 'operator-1', 'user-1', false), "'all' read");
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m2)), [m2, 3]);
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m3)), [m3, 3]);
    assert.deepStrictEqual(await nextEvent(op2, 'ticketResponded', T, aboutTicket(ticketId)), [ticketId]);
    // Nothing left to read: 'all' again changes nothing.
    assertOk(await emitAck(op1, 'updateMessageStatus', 'all', 3, 'operator-1', 'user-1', false));
    await noEvent(user, 'messageStatusUpdated', Q, (a) => [m0, m2, m3].includes(a[0]));

    // An unread user message answered by the handler: ticketResponded.
    const m4 = uuid();
    assertOk(await emitAck(user, 'updateMessage', ticketId, m4, messageObject(ticketId, m4, 'Hello?'), 'operator-1'));
    await nextEvent(op1, 'messageUpdated', T, aboutMessage(m4));
    flush(op2);
    const m5 = uuid();
    assertOk(await emitAck(op1, 'updateMessage', ticketId, m5, messageObject(ticketId, m5, 'Fixed it.'), 'user-1'));
    await nextEvent(user, 'messageUpdated', T, aboutMessage(m5));
    assert.deepStrictEqual(await nextEvent(op2, 'ticketResponded', T, aboutTicket(ticketId)), [ticketId],
      'ticketResponded(ticketId) when the handler answered');

    // Close: 200 → 10000.
    assertOk(await emitAck(op1, 'updateTicketStatus', ticketId, { ...expectOpen, statusId: 10000 }, 10000, 'user-1'), 'close');
    for (const s of [user, user2nd, op2]) {
      assert.deepStrictEqual(await nextEvent(s, 'ticketStatusUpdated', T, aboutTicket(ticketId)), [ticketId, 10000]);
    }

    // A message on a closed ticket.
    const m6 = uuid();
    const closedErr = await emitAck(user, 'updateMessage', ticketId, m6, messageObject(ticketId, m6, 'one more thing'), 'operator-1');
    assert.equal(closedErr?.code, 'TICKET_CLOSED', JSON.stringify(closedErr));
    await noEvent(op1, 'messageUpdated', Q, aboutMessage(m6));

    // Reopen by the handler: 10000 → 200.
    assertOk(await emitAck(op1, 'updateTicketStatus', ticketId, { ...expectOpen, statusId: 200 }, 200, 'user-1'), 'reopen');
    for (const s of [user, op2]) {
      assert.deepStrictEqual(await nextEvent(s, 'ticketStatusUpdated', T, aboutTicket(ticketId)), [ticketId, 200]);
    }
    assertOk(await emitAck(user, 'updateMessage', ticketId, m6, messageObject(ticketId, m6, 'one more thing'), 'operator-1'));
    const [again] = await nextEvent(op1, 'messageUpdated', T, aboutMessage(m6));
    assertMessage(again, { recipientId: 'operator-1', senderId: 'user-1' });

    const { status, tickets } = await getTickets(await tokenFor('operator-1'));
    assert.equal(status, 200);
    const stored = tickets.find((t) => t.ticketId === ticketId);
    assertTicket(stored, { ...expectOpen, statusId: 200, handleById: 'operator-1' });
    // The pre-accept message is addressed to the handler now; every status is current.
    const { messages } = await getMessages(await tokenFor('user-1'), ticketId);
    assert.deepEqual(messages.map((m) => m.messageId), [m0, m1, m2, m3, m4, m5, m6], 'commit order');
    assert.deepEqual([0, 1, 2, 3, 5, 6].map((i) => messages[i].statusId), [3, 3, 3, 3, 1, 1], 'current statuses');
    assertMessage(messages[0], { messageId: m0, recipientId: 'operator-1', recipientNm: 'Operator One', statusId: 3 });
  });

  test('reject a new ticket (100 → 10000), reopen it by another operator who becomes the handler', async () => {
    const user = await asUser('user-2');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await createTicket(user, op1);
    flush(op2);
    assertOk(await emitAck(op2, 'updateTicketStatus', t.ticketId, { ...t, statusId: 10000 }, 10000, t.ownerId), 'reject');
    assert.deepStrictEqual(await nextEvent(user, 'ticketStatusUpdated', T, aboutTicket(t.ticketId)), [t.ticketId, 10000]);
    assert.deepStrictEqual(await nextEvent(op1, 'ticketStatusUpdated', T, aboutTicket(t.ticketId)), [t.ticketId, 10000]);

    assertOk(await emitAck(op1, 'updateTicketStatus', t.ticketId, { ...t, statusId: 200 }, 200, t.ownerId), 'reopen');
    assert.deepStrictEqual(await nextEvent(user, 'ticketStatusUpdated', T, aboutTicket(t.ticketId)), [t.ticketId, 200]);
    // (op2 may also have its own reject's 10000 queued: the caller is in `operators` too)
    assert.deepStrictEqual(await nextEvent(op2, 'ticketStatusUpdated', T, (a) => a[0] === t.ticketId && a[1] !== 10000), [t.ticketId, 200]);
    const { tickets } = await getTickets(await tokenFor('user-2'));
    assertTicket(tickets.find((x) => x.ticketId === t.ticketId), {
      statusId: 200, handleById: 'operator-1', handleByNm: 'Operator One', ownerId: 'user-2',
    });
    // The new handler gets the user's messages.
    const m = uuid();
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'thanks'), ''));
    const [msg] = await nextEvent(op1, 'messageUpdated', T, aboutMessage(m));
    assertMessage(msg, { recipientId: 'operator-1', recipientNm: 'Operator One' });
  });

  test('ids the client sends for others are advisory (ownerId, ticketOwnerId)', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-2');
    const t = await createTicket(user, op);
    assertOk(await emitAck(op, 'acceptTicket', t.ticketId, {}, 'someone-else'), 'accept with a wrong ownerId and an empty ticketObject');
    const [acc] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    assertTicket(acc, { ticketId: t.ticketId, ownerId: 'user-1', handleById: 'operator-2', statusId: 200, displayNm: t.displayNm });
    assertOk(await emitAck(op, 'updateTicketStatus', t.ticketId, {}, 10000, 'user-2'), 'close with a wrong ticketOwnerId');
    assert.deepStrictEqual(await nextEvent(user, 'ticketStatusUpdated', T, aboutTicket(t.ticketId)), [t.ticketId, 10000]);
  });

  test('client-sent statusId and handler of a new ticket are ignored', async () => {
    const user = await asUser('user-3');
    const op = await asOperator('operator-3');
    const t = await createTicket(user, op, { statusId: 200, handleById: 'operator-1', handleByNm: 'Operator One', lastResponseAt: '2001-01-01T00:00:00.000Z' });
    assertTicket(t, { statusId: 100, handleById: '', handleByNm: '', ownerId: 'user-3', ownerNm: 'User Three' });
    assert.notEqual(t.lastResponseAt, '2001-01-01T00:00:00.000Z');
  });
});

describe("bulk read 'all'", () => {
  test("covers the sender's messages to the caller across open tickets, and nobody else's", async () => {
    const u3 = await asUser('user-3');
    const u2 = await asUser('user-2');
    const op = await asOperator('operator-3');
    const open = async (user) => {
      const t = await createTicket(user, op);
      assertOk(await emitAck(op, 'acceptTicket', t.ticketId, t, t.ownerId));
      await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
      return t.ticketId;
    };
    const send = async (user, ticketId) => {
      const id = uuid();
      assertOk(await emitAck(user, 'updateMessage', ticketId, id, messageObject(ticketId, id, 'x'), 'operator-3'));
      return id;
    };
    const a = await open(u3);
    const b = await open(u3);
    const c = await open(u2);
    const fromU3 = [await send(u3, a), await send(u3, b), await send(u3, a)];
    const fromU2 = await send(u2, c);
    for (const id of [...fromU3, fromU2]) await nextEvent(op, 'messageUpdated', T, aboutMessage(id));
    assertOk(await emitAck(op, 'updateMessageStatus', fromU3[0], 2, 'operator-3', 'user-3', true), 'one delivered first');
    assert.deepStrictEqual(await nextEvent(u3, 'messageStatusUpdated', T, aboutMessage(fromU3[0])), [fromU3[0], 2]);

    assertOk(await emitAck(op, 'updateMessageStatus', 'all', 3, 'operator-3', 'user-3', false));
    for (const id of fromU3) assert.deepStrictEqual(await nextEvent(u3, 'messageStatusUpdated', T, aboutMessage(id)), [id, 3]);
    await noEvent(u2, 'messageStatusUpdated', Q, aboutMessage(fromU2));
    const { messages } = await getMessages(await tokenFor('operator-3'), c);
    assert.equal(messages.find((m) => m.messageId === fromU2).statusId, 1, "user-2's message is untouched");

    // 'all' delivered (2) after read (3) changes nothing.
    assertOk(await emitAck(op, 'updateMessageStatus', 'all', 2, 'operator-3', 'user-3', true));
    await noEvent(u3, 'messageStatusUpdated', Q, (x) => fromU3.includes(x[0]));
  });
});

describe('typing', () => {
  test('typing(ticketId, userName) goes to the other party only, throttled to 1 per second', async () => {
    const user = await asUser('user-1');
    const user2nd = await asUser('user-1');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await createTicket(user, op1);
    assertOk(await emitAck(op1, 'acceptTicket', t.ticketId, t, t.ownerId));
    const [open] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));

    // From the user, as the source writes it (no ack).
    user.emit('typing', t.ticketId, open.handleById);
    const args = await nextEvent(op1, 'typing', T, aboutTicket(t.ticketId));
    assert.deepStrictEqual(args, [t.ticketId, 'User One']);
    // A second one within the second is dropped.
    user.emit('typing', t.ticketId, open.handleById);
    await noEvent(op1, 'typing', 600, aboutTicket(t.ticketId));
    await noEvent(op2, 'typing', 0, aboutTicket(t.ticketId));
    await noEvent(user2nd, 'typing', 0, aboutTicket(t.ticketId));
    await noEvent(user, 'typing', 0, aboutTicket(t.ticketId));
    // After the second is over, relayed again.
    await sleep(600);
    user.emit('typing', t.ticketId, open.handleById);
    assert.deepStrictEqual(await nextEvent(op1, 'typing', T, aboutTicket(t.ticketId)), [t.ticketId, 'User One']);

    // From the operator.
    op1.emit('typing', t.ticketId, open.ownerId);
    assert.deepStrictEqual(await nextEvent(user, 'typing', T, aboutTicket(t.ticketId)), [t.ticketId, 'Operator One']);
    assert.deepStrictEqual(await nextEvent(user2nd, 'typing', T, aboutTicket(t.ticketId)), [t.ticketId, 'Operator One']);
    await noEvent(op2, 'typing', Q, aboutTicket(t.ticketId));
  });

  test('typing with an ack acks null; on a ticket with no handler it reaches nobody', async () => {
    const user = await asUser('user-2');
    const op = await asOperator('operator-2');
    const t = await createTicket(user, op);
    assertOk(await emitAck(user, 'typing', t.ticketId, ''), 'typing without handler');
    await noEvent(op, 'typing', Q, aboutTicket(t.ticketId));
  });
});

describe('assignment', () => {
  test('assign to another operator, then hijack; messages follow the handler', async () => {
    // operator-3 must be known (has authenticated) for the offline check below.
    const user = await asUser('user-2');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const op3 = await asOperator('operator-3');
    const t = await createTicket(user, op1);
    assertOk(await emitAck(op1, 'acceptTicket', t.ticketId, t, t.ownerId));
    for (const s of [user, op2, op3]) await nextEvent(s, 'ticketAccepted', T, aboutTicket(t.ticketId));

    // op1 assigns to op2.
    assertOk(await emitAck(op1, 'assignTicket', { ticketId: t.ticketId, handleById: 'operator-2' }), 'assign');
    assert.deepStrictEqual(await nextEvent(op2, 'notifyOfAssignment', T, (a) => a[0] === t.ticketId && a[1] === 1),
      [t.ticketId, 1, 'Operator One'], 'notifyOfAssignment(ticketId, 1, displayNm of the acting operator)');
    const expectOp2 = {
      ticketId: t.ticketId, statusId: 200, handleById: 'operator-2', handleByNm: 'Operator Two', ownerId: 'user-2', ownerNm: 'User Two',
    };
    for (const s of [user, op3]) {
      const args = await nextEvent(s, 'ticketAccepted', T, aboutTicket(t.ticketId));
      assert.equal(args.length, 1);
      assertTicket(args[0], expectOp2);
    }
    await noEvent(op3, 'notifyOfAssignment', 0, aboutTicket(t.ticketId));
    await nextEvent(op2, 'ticketAccepted', T, aboutTicket(t.ticketId));
    flush(op1); // op1 may or may not be told notifyOfAssignment 0 for its own assign-away

    // op3 hijacks (handleById null).
    assertOk(await emitAck(op3, 'assignTicket', { ticketId: t.ticketId, handleById: null }), 'hijack');
    assert.deepStrictEqual(await nextEvent(op2, 'notifyOfAssignment', T, (a) => a[0] === t.ticketId && a[1] === 0),
      [t.ticketId, 0, 'Operator Three'], 'notifyOfAssignment(ticketId, 0, displayNm) to the previous handler');
    const expectOp3 = { ...expectOp2, handleById: 'operator-3', handleByNm: 'Operator Three' };
    for (const s of [user, op1]) {
      const [obj] = await nextEvent(s, 'ticketAccepted', T, aboutTicket(t.ticketId));
      assertTicket(obj, expectOp3);
    }
    await noEvent(op3, 'notifyOfAssignment', Q, (a) => a[0] === t.ticketId && a[1] === 1);
    await noEvent(op1, 'notifyOfAssignment', 0, aboutTicket(t.ticketId));

    // A message with the stale recipientId (op2) goes to the new handler.
    const m = uuid();
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'still there?', { recipientId: 'operator-2' }), 'operator-2'));
    const [msg] = await nextEvent(op3, 'messageUpdated', T, aboutMessage(m));
    assertMessage(msg, { recipientId: 'operator-3', recipientNm: 'Operator Three', senderId: 'user-2' });
    await noEvent(op2, 'messageUpdated', Q, aboutMessage(m));

    // The new handler answers; the old one no longer can.
    const r = uuid();
    assertOk(await emitAck(op3, 'updateMessage', t.ticketId, r, messageObject(t.ticketId, r, 'yes'), 'user-2'));
    const [reply] = await nextEvent(user, 'messageUpdated', T, aboutMessage(r));
    assertMessage(reply, { senderId: 'operator-3', senderNm: 'Operator Three', recipientId: 'user-2', recipientNm: 'User Two' });
  });

  test('assign a new ticket: it becomes open; hijack with handleById ""', async () => {
    const user = await asUser('user-3');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await createTicket(user, op1);
    assertOk(await emitAck(op1, 'assignTicket', { ticketId: t.ticketId, handleById: 'operator-2' }));
    assert.deepStrictEqual(await nextEvent(op2, 'notifyOfAssignment', T, aboutTicket(t.ticketId)), [t.ticketId, 1, 'Operator One']);
    const [acc] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    assertTicket(acc, { statusId: 200, handleById: 'operator-2', handleByNm: 'Operator Two' });
    await noEvent(op1, 'notifyOfAssignment', Q, aboutTicket(t.ticketId)); // nobody had it before

    assertOk(await emitAck(op1, 'assignTicket', { ticketId: t.ticketId, handleById: '' }), 'hijack with ""');
    assert.deepStrictEqual(await nextEvent(op2, 'notifyOfAssignment', T, aboutTicket(t.ticketId)), [t.ticketId, 0, 'Operator One']);
    const [acc2] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    assertTicket(acc2, { statusId: 200, handleById: 'operator-1', handleByNm: 'Operator One' });
  });

  test('assign to a known operator who is offline is allowed', async () => {
    const probe = await asOperator('operator-3', { subscribe: false }); // operator-3 is known
    probe.close();
    const user = await asUser('user-1');
    const op1 = await asOperator('operator-1');
    const t = await createTicket(user, op1);
    assertOk(await emitAck(op1, 'assignTicket', { ticketId: t.ticketId, handleById: 'operator-3' }), 'assign to offline operator-3');
    const [acc] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
    assertTicket(acc, { handleById: 'operator-3', handleByNm: 'Operator Three', statusId: 200 });
  });
});

describe('programs', () => {
  test('a program acts for its end user "42": scoped owner, isExternal, programId', async () => {
    const prog = await asProgram('program-42', '42', { profile: { userId: '42', programId: 'program-42', fullNm: 'Ext User 42', email: 'u42@example.test' } });
    const op = await asOperator('operator-1');
    const ticketId = uuid();
    assertOk(await emitAck(prog, 'createTicket', ticketId, ticketObject(ticketId, { programId: 'program-42' })), 'createTicket');
    const [created] = await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
    assertTicket(created, {
      ticketId, statusId: 100, ownerId: 'program-42/42', ownerNm: 'Ext User 42', isExternal: true, programId: 'program-42',
    });

    assertOk(await emitAck(op, 'acceptTicket', ticketId, created, created.ownerId));
    const [acc] = await nextEvent(prog, 'ticketAccepted', T, aboutTicket(ticketId));
    assertTicket(acc, { statusId: 200, handleById: 'operator-1', isExternal: true, programId: 'program-42' });

    const m = uuid();
    assertOk(await emitAck(prog, 'updateMessage', ticketId, m, messageObject(ticketId, m, 'from program user', { programId: 'program-42' }), 'operator-1'));
    const [msg] = await nextEvent(op, 'messageUpdated', T, aboutMessage(m));
    assertMessage(msg, {
      senderId: 'program-42/42', senderNm: 'Ext User 42', recipientId: 'operator-1', recipientNm: 'Operator One', programId: 'program-42',
    });

    const r = uuid();
    assertOk(await emitAck(op, 'updateMessage', ticketId, r, messageObject(ticketId, r, 'hello external user'), created.ownerId));
    const [reply] = await nextEvent(prog, 'messageUpdated', T, aboutMessage(r));
    assertMessage(reply, { senderId: 'operator-1', programId: 'program-42', content: 'hello external user' });
    assert.ok(['program-42/42', '42'].includes(reply.recipientId), `recipientId of the program's user: ${reply.recipientId}`);

    assertOk(await emitAck(prog, 'updateMessageStatus', r, 3, reply.recipientId, reply.senderId, false));
    assert.deepStrictEqual(await nextEvent(op, 'messageStatusUpdated', T, aboutMessage(r)), [r, 3]);

    prog.emit('typing', ticketId, 'operator-1');
    const typing = await nextEvent(op, 'typing', T, aboutTicket(ticketId));
    assert.equal(typing.length, 2);
    assert.equal(typing[0], ticketId);
    // "the caller's display name": the end user the program acts for, or the program itself.
    assert.ok(['Ext User 42', prog.principal.displayNm].includes(typing[1]), `typing userName ${typing[1]}`);
  });

  test('user "42" of program-7 is not user "42" of program-42', async () => {
    const p42 = await asProgram('program-42', '42');
    const p7 = await asProgram('program-7', '42');
    const op = await asOperator('operator-2');
    const ticketId = uuid();
    assertOk(await emitAck(p42, 'createTicket', ticketId, ticketObject(ticketId, { programId: 'program-42' })));
    await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
    // Same ticket id from the other program's user 42: another owner.
    const err = await emitAck(p7, 'createTicket', ticketId, ticketObject(ticketId, { programId: 'program-7' }));
    assert.equal(err?.code, 'CONFLICT', JSON.stringify(err));
    const m = uuid();
    const err2 = await emitAck(p7, 'updateMessage', ticketId, m, messageObject(ticketId, m, 'not mine', { programId: 'program-7' }), '');
    assert.equal(err2?.code, 'NOT_FOUND', JSON.stringify(err2));
    await noEvent(op, 'messageUpdated', Q, aboutMessage(m));
  });

  test('a program socket switches end users by subscribing again', async () => {
    const prog = await asProgram('program-7', 'a');
    const op = await asOperator('operator-3');
    const t1 = uuid();
    assertOk(await emitAck(prog, 'createTicket', t1, ticketObject(t1, { programId: 'program-7' })));
    const [c1] = await nextEvent(op, 'ticketCreated', T, aboutTicket(t1));
    assert.equal(c1.ownerId, 'program-7/a');
    assertOk(await emitAck(prog, 'subscribe', { userId: 'b', programId: 'program-7' }));
    const t2 = uuid();
    assertOk(await emitAck(prog, 'createTicket', t2, ticketObject(t2, { programId: 'program-7' })));
    const [c2] = await nextEvent(op, 'ticketCreated', T, aboutTicket(t2));
    assert.equal(c2.ownerId, 'program-7/b');
    assert.match(c2.createdAt, ISO_MS);
  });
});

describe('display names', () => {
  // oauth.md: "Display names come from name/preferred_username/email claims,
  // then the user's own profile (subscribe userObject)". Runs last: it leaves
  // a profile name on user-3.
  test("the token's name claim wins over the subscribe profile's fullNm", async () => {
    const user = await asUser('user-3', { profile: { userId: 'user-3', fullNm: 'Somebody Else' } });
    const op = await asOperator('operator-1');
    const t = await createTicket(user, op);
    assertTicket(t, { ownerId: 'user-3', ownerNm: 'User Three' });
    await emitAck(user, 'subscribe', { userId: 'user-3', fullNm: 'User Three' });
  });
});
