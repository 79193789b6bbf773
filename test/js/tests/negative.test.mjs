// What the server must refuse, and that a refusal changes nothing: each
// test asserts the error code AND checks the state (REST, or the absence of
// events on observers). Untrusted input never drops the connection.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import {
  connect, authenticate, authResult, emitAck, nextEvent, noEvent, aboutTicket, aboutMessage, flush,
  getTickets, getMessages, sleep,
} from '../lib/server.mjs';
import {
  tokenFor, idTokenFor, expiringTokenFor, wrongAudienceTokenFor, decodeJwt,
} from '../lib/tokens.mjs';
import {
  setupSuite, uuid, asUser, asOperator, asProgram, ticketObject, messageObject, assertTicket, assertErr, assertOk,
} from '../lib/harness.mjs';

setupSuite();

const T = 3000;
const Q = 400;

async function createTicket(user, observer) {
  const ticketId = uuid();
  assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)), 'createTicket');
  const [t] = await nextEvent(observer, 'ticketCreated', T, aboutTicket(ticketId));
  return t;
}

async function openTicket(user, op, observer = op) {
  const t = await createTicket(user, observer);
  assertOk(await emitAck(op, 'acceptTicket', t.ticketId, t, t.ownerId), 'acceptTicket');
  const [open] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
  return open;
}

async function ticketAsOperator(ticketId) {
  const { status, tickets } = await getTickets(await tokenFor('operator-3'));
  assert.equal(status, 200);
  return tickets.find((t) => t.ticketId === ticketId);
}

async function messagesOf(ticketId) {
  const r = await getMessages(await tokenFor('operator-3'), ticketId);
  assert.equal(r.status, 200, `GET messages of ${ticketId}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.messages;
}

describe('before authentication', () => {
  test('every client event is refused with UNAUTHENTICATED and changes nothing', async () => {
    const observer = await asOperator('operator-3');
    const s = await connect();
    const ticketId = uuid();
    const messageId = uuid();
    const calls = [
      ['subscribe', { userId: 'user-1' }],
      ['unsubscribe'],
      ['subscribeOperator'],
      ['unsubscribeOperator'],
      ['createTicket', ticketId, ticketObject(ticketId)],
      ['acceptTicket', ticketId, ticketObject(ticketId), 'user-1'],
      ['updateTicketStatus', ticketId, ticketObject(ticketId), 10000, 'user-1'],
      ['updateMessage', ticketId, messageId, messageObject(ticketId, messageId, 'hi'), ''],
      ['updateMessageStatus', messageId, 2, 'user-1', 'operator-1', true],
      ['updateMessageStatus', 'all', 3, 'user-1', 'operator-1', false],
      ['typing', ticketId, ''],
      ['assignTicket', { ticketId, handleById: null }],
    ];
    for (const [event, ...args] of calls) {
      assertErr(await emitAck(s, event, ...args), 'UNAUTHENTICATED', event);
    }
    assert.ok(s.connected, 'still connected');
    await noEvent(observer, 'ticketCreated', Q, aboutTicket(ticketId));
    assert.equal(await ticketAsOperator(ticketId), undefined, 'no ticket was created');
    // An unauthenticated socket that subscribed nothing gets no broadcast.
    const user = await asUser('user-1');
    await createTicket(user, observer);
    assert.deepEqual(s.__q.filter((e) => e.event !== 'unauthenticated').map((e) => e.event), []);
  });

  test('a socket that never authenticates is disconnected after the grace period (2 s); one that did is not', async () => {
    const idle = await connect();
    const good = await connect();
    await authenticate(good, await tokenFor('user-3'));
    const started = Date.now();
    const reason = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('not disconnected within 6 s')), 6000);
      idle.once('disconnect', (r) => { clearTimeout(t); resolve(r); });
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000, `disconnected after ${elapsed} ms, not before the grace period`);
    assert.ok(['io server disconnect', 'transport close'].includes(reason), `disconnect reason ${reason}`);
    await sleep(500);
    assert.ok(good.connected, 'the authenticated socket stays');
    assertOk(await emitAck(good, 'subscribe', { userId: 'user-3' }));
  });
});

describe('roles', () => {
  test('a user may not use operator events (FORBIDDEN), nothing changes', async () => {
    const user = await asUser('user-1');
    const observer = await asOperator('operator-3');
    const t = await createTicket(user, observer);
    assertErr(await emitAck(user, 'subscribeOperator'), 'FORBIDDEN', 'subscribeOperator');
    assertErr(await emitAck(user, 'acceptTicket', t.ticketId, t, t.ownerId), 'FORBIDDEN', 'acceptTicket');
    assertErr(await emitAck(user, 'updateTicketStatus', t.ticketId, t, 10000, t.ownerId), 'FORBIDDEN', 'updateTicketStatus');
    assertErr(await emitAck(user, 'assignTicket', { ticketId: t.ticketId, handleById: null }), 'FORBIDDEN', 'assignTicket hijack');
    assertErr(await emitAck(user, 'assignTicket', { ticketId: t.ticketId, handleById: 'operator-1' }), 'FORBIDDEN', 'assignTicket');
    await noEvent(observer, 'ticketAccepted', Q, aboutTicket(t.ticketId));
    await noEvent(observer, 'ticketStatusUpdated', 0, aboutTicket(t.ticketId));
    assertTicket(await ticketAsOperator(t.ticketId), { statusId: 100, handleById: '' });
    // subscribeOperator refused: the user is not in `operators`.
    const other = await asUser('user-2');
    await createTicket(other, observer);
    assert.deepEqual(user.__q.filter((e) => e.event === 'ticketCreated'), []);
  });

  test("a user may not touch another user's ticket (NOT_FOUND)", async () => {
    const owner = await asUser('user-1');
    const intruder = await asUser('user-2');
    const op = await asOperator('operator-1');
    const t = await openTicket(owner, op);
    const m = uuid();
    assertErr(await emitAck(intruder, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'hi'), 'operator-1'), 'NOT_FOUND', 'updateMessage');
    assertErr(await emitAck(intruder, 'typing', t.ticketId, 'operator-1'), 'NOT_FOUND', 'typing');
    // A ticket that does not exist answers the same.
    const ghost = uuid();
    assertErr(await emitAck(intruder, 'updateMessage', ghost, m, messageObject(ghost, m, 'hi'), ''), 'NOT_FOUND', 'updateMessage unknown ticket');
    await noEvent(op, 'messageUpdated', Q, aboutMessage(m));
    await noEvent(op, 'typing', 0, aboutTicket(t.ticketId));
    await noEvent(owner, 'messageUpdated', 0, aboutMessage(m));
    assert.deepEqual(await messagesOf(t.ticketId), []);
  });

  test('status on a message not addressed to you: FORBIDDEN; unknown message: NOT_FOUND', async () => {
    const user = await asUser('user-1');
    const intruder = await asUser('user-2');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await openTicket(user, op1);
    const m = uuid();
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'hello'), 'operator-1'));
    await nextEvent(op1, 'messageUpdated', T, aboutMessage(m));
    // The sender marking its own message.
    assertErr(await emitAck(user, 'updateMessageStatus', m, 3, 'operator-1', 'user-1', false), 'FORBIDDEN', 'sender marks own message');
    // Another operator (may see the ticket, is not the recipient).
    assertErr(await emitAck(op2, 'updateMessageStatus', m, 3, 'operator-2', 'user-1', false), 'FORBIDDEN', 'other operator');
    // Another user (may not even see the ticket).
    const e = await emitAck(intruder, 'updateMessageStatus', m, 3, 'user-2', 'user-1', false);
    assert.ok(['NOT_FOUND', 'FORBIDDEN'].includes(e?.code), `another user's status update: ${JSON.stringify(e)}`);
    // Unknown message id.
    assertErr(await emitAck(op1, 'updateMessageStatus', uuid(), 3, 'operator-1', 'user-1', false), 'NOT_FOUND', 'unknown message');
    await noEvent(user, 'messageStatusUpdated', Q, aboutMessage(m));
    const [stored] = await messagesOf(t.ticketId);
    assert.equal(stored.statusId, 1, 'message still "sent"');
  });

  test('an operator may not message a ticket it does not handle (FORBIDDEN)', async () => {
    const user = await asUser('user-3');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await openTicket(user, op1);
    const m = uuid();
    assertErr(await emitAck(op2, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'let me butt in'), 'user-3'), 'FORBIDDEN');
    await noEvent(user, 'messageUpdated', Q, aboutMessage(m));
    assert.deepEqual(await messagesOf(t.ticketId), []);
    // Nor close it (only the handler, or anyone for a new ticket).
    assertErr(await emitAck(op2, 'updateTicketStatus', t.ticketId, t, 10000, t.ownerId), 'FORBIDDEN', 'non-handler closes');
    await noEvent(user, 'ticketStatusUpdated', Q, aboutTicket(t.ticketId));
    assertTicket(await ticketAsOperator(t.ticketId), { statusId: 200, handleById: 'operator-1' });
  });

  test('a user may not subscribe as another user (FORBIDDEN)', async () => {
    const s = await asUser('user-1', { subscribe: false });
    assertErr(await emitAck(s, 'subscribe', { userId: 'user-2' }), 'FORBIDDEN');
    // ... and is not in user-2's room.
    const op = await asOperator('operator-1');
    const u2 = await asUser('user-2');
    const t = await openTicket(u2, op);
    await noEvent(s, 'ticketAccepted', Q, aboutTicket(t.ticketId));
  });
});

describe('programs', () => {
  test('a program may not use a programId that is not its own (FORBIDDEN)', async () => {
    const prog = await asProgram('program-42', null);
    assertErr(await emitAck(prog, 'subscribe', { userId: '42', programId: 'program-7' }), 'FORBIDDEN', 'subscribe with programId program-7');
    const ticketId = uuid();
    assertErr(await emitAck(prog, 'createTicket', ticketId, ticketObject(ticketId, { programId: 'program-42' })), 'FORBIDDEN', 'createTicket after the refused subscribe');
    assert.equal(await ticketAsOperator(ticketId), undefined);
  });

  test('program user events before subscribe are FORBIDDEN', async () => {
    const observer = await asOperator('operator-3');
    const prog = await asProgram('program-7', null);
    const ticketId = uuid();
    const m = uuid();
    assertErr(await emitAck(prog, 'createTicket', ticketId, ticketObject(ticketId, { programId: 'program-7' })), 'FORBIDDEN', 'createTicket');
    assertErr(await emitAck(prog, 'updateMessage', ticketId, m, messageObject(ticketId, m, 'x', { programId: 'program-7' }), ''), 'FORBIDDEN', 'updateMessage');
    assertErr(await emitAck(prog, 'subscribeOperator'), 'FORBIDDEN', 'subscribeOperator');
    await noEvent(observer, 'ticketCreated', Q, aboutTicket(ticketId));
    assert.equal(await ticketAsOperator(ticketId), undefined);
  });

  test('a program must name the end user when subscribing (INVALID_REQUEST)', async () => {
    const prog = await asProgram('program-42', null);
    assertErr(await emitAck(prog, 'subscribe'), 'INVALID_REQUEST', 'subscribe without userObject');
    assertErr(await emitAck(prog, 'subscribe', { programId: 'program-42' }), 'INVALID_REQUEST', 'subscribe without userId');
    assert.ok(prog.connected);
  });
});

describe('untrusted arguments', () => {
  test('wrong types and missing arguments: INVALID_REQUEST, socket stays connected, nothing stored', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-1');
    const bystander = await asUser('user-2');
    const t = await openTicket(user, op);
    // Each case gets its own ids, so that a case the server wrongly accepts
    // shows up by name in the "nothing stored" check; every case runs even
    // if an earlier one fails.
    const T_ = t.ticketId;
    const userCases = [
      ['createTicket', (id) => [12345, ticketObject(id)]],
      ['createTicket', (id) => [id, 'a string']],
      ['createTicket', (id) => [id, null]],
      ['createTicket', (id) => [id, [1, 2]]],
      ['createTicket', () => []],
      ['createTicket', (id) => [id]],
      ['createTicket', (id) => [id, ticketObject(id, { displayNm: 42 })]],
      ['createTicket', (id) => [id, ticketObject(id, { displayNm: 'x'.repeat(1025) })]],
      ['updateMessage', (id) => [12345, id, messageObject(T_, id, 'x'), 'operator-1']],
      ['updateMessage', (id) => [T_, id, 'a string', 'operator-1']],
      ['updateMessage', (id) => [T_, id, null, 'operator-1']],
      ['updateMessage', (id) => [T_, id, messageObject(T_, id, 42), 'operator-1']],
      ['updateMessage', (id) => [T_, 42, messageObject(T_, id, 'x'), 'operator-1']],
      ['updateMessage', (id) => [T_, id, messageObject(T_, id, 'x', { type: 'text' }), 'operator-1']],
      ['updateMessage', (id) => [T_, id, messageObject(T_, id, 'x', { type: 7 }), 'operator-1']],
      ['updateMessage', () => [T_]],
      ['updateMessage', () => []],
      ['updateMessageStatus', () => []],
      ['updateMessageStatus', () => [42, 3, 'user-1', 'operator-1', false]],
      ['updateMessageStatus', (id) => [id, 'three', 'user-1', 'operator-1', false]],
      ['updateMessageStatus', (id) => [id, 5, 'user-1', 'operator-1', false]],
      ['typing', () => [42, 'operator-1']],
      ['typing', () => []],
    ];
    const opCases = [
      ['acceptTicket', () => [42, t, 'user-1']],
      ['acceptTicket', () => []],
      ['updateTicketStatus', () => [T_, t, 'closed', 'user-1']],
      ['updateTicketStatus', () => [42, t, 10000, 'user-1']],
      ['updateTicketStatus', () => []],
      ['assignTicket', () => ['a string']],
      ['assignTicket', () => [{ handleById: null }]],
      ['assignTicket', () => [{ ticketId: 42, handleById: null }]],
      ['assignTicket', () => [{ ticketId: T_, handleById: 42 }]],
      ['assignTicket', () => []],
    ];
    const failures = [];
    const ids = [];
    for (const [socket, cases] of [[user, userCases], [op, opCases]]) {
      for (const [event, mk] of cases) {
        const id = uuid();
        ids.push(id);
        const args = mk(id);
        const label = `${event}(${JSON.stringify(args).slice(0, 70)})`;
        const err = await emitAck(socket, event, ...args);
        if (err?.code !== 'INVALID_REQUEST' || typeof err.message !== 'string') failures.push(`${label} → ${JSON.stringify(err)}`);
        if (!socket.connected) failures.push(`${label} dropped the connection`);
      }
    }
    assert.deepEqual(failures, [], 'every malformed call acks INVALID_REQUEST');
    const { tickets } = await getTickets(await tokenFor('operator-3'));
    assert.deepEqual(tickets.filter((x) => ids.includes(x.ticketId)), [], 'no ticket stored');
    assert.deepEqual(await messagesOf(T_), [], 'no message stored');
    assertTicket(await ticketAsOperator(T_), { statusId: 200, handleById: 'operator-1' });
    await noEvent(op, 'messageUpdated', 0);
    assert.ok(bystander.connected, 'another user is not affected');
    // Both sockets still work.
    const m = uuid();
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'ok now'), 'operator-1'));
    await nextEvent(op, 'messageUpdated', T, aboutMessage(m));
  });

  test('sizes: text content 64 KiB is fine, one byte more is INVALID_REQUEST; names over 1 KiB too; the socket stays', async () => {
    const user = await asUser('user-2');
    const op = await asOperator('operator-2');
    const t = await openTicket(user, op);
    const ok = uuid();
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, ok, messageObject(t.ticketId, ok, 'a'.repeat(64 * 1024)), 'operator-2'), '64 KiB');
    const [m] = await nextEvent(op, 'messageUpdated', T, aboutMessage(ok));
    assert.equal(m.content.length, 64 * 1024);
    const big = uuid();
    assertErr(await emitAck(user, 'updateMessage', t.ticketId, big, messageObject(t.ticketId, big, 'a'.repeat(64 * 1024 + 1)), 'operator-2'), 'INVALID_REQUEST', '64 KiB + 1');
    assert.ok(user.connected);
    const huge = uuid();
    assertErr(await emitAck(user, 'updateMessage', t.ticketId, huge, messageObject(t.ticketId, huge, 'a'.repeat(1024 * 1024)), 'operator-2'), 'INVALID_REQUEST', '1 MiB text');
    assert.ok(user.connected);
    // An image over 1 MiB decoded.
    const img = uuid();
    const b64 = Buffer.alloc(1024 * 1024 + 3, 7).toString('base64');
    assertErr(await emitAck(user, 'updateMessage', t.ticketId, img, messageObject(t.ticketId, img, b64, { type: 2 }), 'operator-2'), 'INVALID_REQUEST', 'image > 1 MiB');
    assert.ok(user.connected);
    // An image of 100 KiB is fine.
    const small = uuid();
    const smallB64 = Buffer.alloc(100 * 1024, 9).toString('base64');
    assertOk(await emitAck(user, 'updateMessage', t.ticketId, small, messageObject(t.ticketId, small, smallB64, { type: 2 }), 'operator-2'), 'image 100 KiB');
    const [im] = await nextEvent(op, 'messageUpdated', T, aboutMessage(small));
    assert.equal(im.type, 2);
    assert.equal(im.content, smallB64);
    await noEvent(op, 'messageUpdated', 0, (a) => [big, huge, img].includes(a[0]?.messageId));
    const ids = (await messagesOf(t.ticketId)).map((x) => x.messageId);
    assert.deepEqual(ids, [ok, small]);
  });

  test('unknown event with an ack: INVALID_REQUEST; without one: ignored', async () => {
    const user = await asUser('user-3');
    assertErr(await emitAck(user, 'noSuchEvent', 1, 2), 'INVALID_REQUEST');
    user.emit('noSuchEvent', 'x');
    await sleep(200);
    assert.ok(user.connected);
    assertOk(await emitAck(user, 'subscribe', { userId: 'user-3' }));
  });

  test('events without an ack function, or with a non-function there, are still processed', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-1');
    const observer = await asOperator('operator-2');
    const t1 = uuid();
    user.emit('createTicket', t1, ticketObject(t1));
    const [c1] = await nextEvent(observer, 'ticketCreated', T, aboutTicket(t1));
    assertTicket(c1, { ticketId: t1, ownerId: 'user-1' });
    const t2 = uuid();
    user.emit('createTicket', t2, ticketObject(t2), 'not a function');
    await nextEvent(observer, 'ticketCreated', T, aboutTicket(t2));

    op.emit('acceptTicket', t1, c1, 'user-1');
    const [acc] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t1));
    assertTicket(acc, { handleById: 'operator-1' });

    const m1 = uuid();
    user.emit('updateMessage', t1, m1, messageObject(t1, m1, 'no ack'), 'operator-1');
    await nextEvent(op, 'messageUpdated', T, aboutMessage(m1));
    const m2 = uuid();
    user.emit('updateMessage', t1, m2, messageObject(t1, m2, 'ack is a number'), 'operator-1', 42);
    await nextEvent(op, 'messageUpdated', T, aboutMessage(m2));

    op.emit('updateMessageStatus', m1, 3, 'operator-1', 'user-1', false);
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m1)), [m1, 3]);
    op.emit('updateMessageStatus', m2, 3, 'operator-1', 'user-1', false, { not: 'a function' });
    assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(m2)), [m2, 3]);

    op.emit('updateTicketStatus', t1, acc, 10000, 'user-1');
    assert.deepStrictEqual(await nextEvent(user, 'ticketStatusUpdated', T, aboutTicket(t1)), [t1, 10000]);
    // An error without an ack is only logged: the socket stays.
    const m3 = uuid();
    user.emit('updateMessage', t1, m3, messageObject(t1, m3, 'closed ticket'), 'operator-1');
    user.emit('updateMessage', 12345);
    user.emit('acceptTicket', t2, {}, 'user-1');
    await sleep(300);
    assert.ok(user.connected);
    assertOk(await emitAck(user, 'subscribe', { userId: 'user-1' }));
    assert.deepEqual((await messagesOf(t1)).map((m) => m.messageId), [m1, m2]);
    assertTicket(await ticketAsOperator(t2), { statusId: 100 });
  });
});

describe('tokens', () => {
  test('invalid, wrong-audience and ID tokens: unauthenticated TOKEN_INVALID; missing: TOKEN_MISSING; events then refused', async () => {
    // Tokens first: the socket has only the 2 s grace period to authenticate.
    const wrongAud = await wrongAudienceTokenFor('user-1');
    const idToken = await idTokenFor('user-1');
    assert.equal(decodeJwt(idToken).payload.aud, 'switchboard', 'the ID token has the right audience; only typ/nonce tell it apart');
    const good = await tokenFor('user-1');
    const [h, p, sig] = good.split('.');
    // A valid token with its signature altered (a character in the middle).
    const i = Math.floor(sig.length / 2);
    const tampered = `${h}.${p}.${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
    // A valid payload with alg none.
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${p}.`;

    const s = await connect();
    await assert.rejects(authenticate(s, 'not.a.jwt'), { code: 'TOKEN_INVALID' });
    await assert.rejects(authenticate(s, wrongAud), { code: 'TOKEN_INVALID' }, 'wrong audience');
    await assert.rejects(authenticate(s, idToken), { code: 'TOKEN_INVALID' }, 'ID token');
    await assert.rejects(authenticate(s, tampered), { code: 'TOKEN_INVALID' }, 'bad signature');
    await assert.rejects(authenticate(s, none), { code: 'TOKEN_INVALID' }, 'alg none');
    s.emit('authenticate', {});
    await assert.rejects(authResult(s), { code: 'TOKEN_MISSING' });
    assertErr(await emitAck(s, 'subscribe', { userId: 'user-1' }), 'UNAUTHENTICATED');
    assert.ok(s.connected, 'not dropped');
    await authenticate(s, good);
    assertOk(await emitAck(s, 'subscribe', { userId: 'user-1' }));
  });

  test('handshake with an invalid token: connected, unauthenticated TOKEN_INVALID', async () => {
    const s = await connect(await wrongAudienceTokenFor('operator-1'));
    // ID token in the handshake too.
    const s2 = await connect(null, { auth: { token: await idTokenFor('operator-1') } });
    await assert.rejects(authResult(s2), { code: 'TOKEN_INVALID' });
    await assert.rejects(authResult(s), { code: 'TOKEN_INVALID' });
    assert.ok(s.connected);
    assertErr(await emitAck(s, 'subscribeOperator'), 'UNAUTHENTICATED');
  });

  test('re-authenticating as a different identity is FORBIDDEN; the socket keeps its identity', async () => {
    const s = await asUser('user-1');
    await assert.rejects(authenticate(s, await tokenFor('user-2')), { code: 'FORBIDDEN' });
    await assert.rejects(authenticate(s, await tokenFor('operator-1')), { code: 'FORBIDDEN' });
    const observer = await asOperator('operator-3');
    const t = await createTicket(s, observer);
    assert.equal(t.ownerId, 'user-1');
    // Same identity with another token is fine.
    await authenticate(s, await tokenFor('user-1', { fresh: true }));
  });

  test('token expiry on a live socket: TOKEN_EXPIRED pushed, rooms left, events refused; a fresh token restores the rooms', async () => {
    const token = await expiringTokenFor('operator-3');
    const exp = decodeJwt(token).payload.exp * 1000;
    const op = await connect();
    await authenticate(op, token);
    assertOk(await emitAck(op, 'subscribeOperator'));
    const user = await asUser('user-2');
    await createTicket(user, op); // in the operators room while valid

    const [payload] = await nextEvent(op, 'unauthenticated', exp - Date.now() + 4000);
    assert.equal(payload.code, 'TOKEN_EXPIRED');
    assert.equal(typeof payload.message, 'string');
    assert.ok(Date.now() >= exp - 100, 'not before the token expired');
    assert.ok(op.connected, 'not dropped');

    assertErr(await emitAck(op, 'subscribeOperator'), 'UNAUTHENTICATED', 'after expiry');
    const t2 = uuid();
    assertOk(await emitAck(user, 'createTicket', t2, ticketObject(t2)));
    await noEvent(op, 'ticketCreated', Q, aboutTicket(t2));

    // The expired token is refused as such (past the server's 1 s leeway).
    await sleep(Math.max(0, exp + 1500 - Date.now()));
    const probe = await connect();
    await assert.rejects(authenticate(probe, token), { code: 'TOKEN_EXPIRED' });
    const probe2 = await connect(token); // in the handshake too
    await assert.rejects(authResult(probe2), { code: 'TOKEN_EXPIRED' });
    assert.ok(probe2.connected);

    // Fresh token, same identity: rooms are back without re-subscribing.
    await authenticate(op, await tokenFor('operator-3', { fresh: true }));
    const t3 = uuid();
    assertOk(await emitAck(user, 'createTicket', t3, ticketObject(t3)));
    await nextEvent(op, 'ticketCreated', T, aboutTicket(t3));
  });
});

describe('concurrency and idempotency', () => {
  test('two operators racing acceptTicket: exactly one null ack and one CONFLICT', async () => {
    const user = await asUser('user-3');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    for (let i = 0; i < 5; i++) {
      const t = await createTicket(user, op1);
      flush(op2);
      const [a, b] = await Promise.all([
        emitAck(op1, 'acceptTicket', t.ticketId, t, t.ownerId),
        emitAck(op2, 'acceptTicket', t.ticketId, t, t.ownerId),
      ]);
      const oks = [a, b].filter((x) => x === null).length;
      const conflicts = [a, b].filter((x) => x?.code === 'CONFLICT').length;
      assert.equal(oks, 1, `one winner: ${JSON.stringify([a, b])}`);
      assert.equal(conflicts, 1, `one CONFLICT: ${JSON.stringify([a, b])}`);
      const winner = a === null ? 'operator-1' : 'operator-2';
      const [acc] = await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));
      assertTicket(acc, { handleById: winner, statusId: 200 });
      await noEvent(user, 'ticketAccepted', 200, aboutTicket(t.ticketId));
      assertTicket(await ticketAsOperator(t.ticketId), { handleById: winner, statusId: 200 });
      // A retry by the winner is idempotent: null, nothing emitted.
      const winnerSocket = winner === 'operator-1' ? op1 : op2;
      assertOk(await emitAck(winnerSocket, 'acceptTicket', t.ticketId, t, t.ownerId), 'retried accept');
      await noEvent(user, 'ticketAccepted', 200, aboutTicket(t.ticketId));
    }
  });

  test('duplicate createTicket/updateMessage by the same owner: null, no second broadcast', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-1');
    const observer = await asOperator('operator-2');
    const ticketId = uuid();
    assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)));
    await nextEvent(observer, 'ticketCreated', T, aboutTicket(ticketId));
    assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)), 'second createTicket');
    await noEvent(observer, 'ticketCreated', Q, aboutTicket(ticketId));

    assertOk(await emitAck(op, 'acceptTicket', ticketId, ticketObject(ticketId), 'user-1'));
    const m = uuid();
    assertOk(await emitAck(user, 'updateMessage', ticketId, m, messageObject(ticketId, m, 'once'), 'operator-1'));
    await nextEvent(op, 'messageUpdated', T, aboutMessage(m));
    assertOk(await emitAck(user, 'updateMessage', ticketId, m, messageObject(ticketId, m, 'once'), 'operator-1'), 'second updateMessage');
    await noEvent(op, 'messageUpdated', Q, aboutMessage(m));
    const msgs = await messagesOf(ticketId);
    assert.deepEqual(msgs.map((x) => x.messageId), [m]);
    assert.equal(msgs[0].content, 'once');
  });

  test('the same ticket id or message id from another party: CONFLICT, nothing changes', async () => {
    const u1 = await asUser('user-1');
    const u2 = await asUser('user-2');
    const op = await asOperator('operator-1');
    const t = await openTicket(u1, op);
    assertErr(await emitAck(u2, 'createTicket', t.ticketId, ticketObject(t.ticketId, { displayNm: 'mine now' })), 'CONFLICT');
    await noEvent(op, 'ticketCreated', Q, aboutTicket(t.ticketId));
    assertTicket(await ticketAsOperator(t.ticketId), { ownerId: 'user-1', displayNm: t.displayNm });
    const r2 = await getMessages(await tokenFor('user-2'), t.ticketId);
    assert.equal(r2.status, 404, 'user-2 still cannot see it');

    const m = uuid();
    assertOk(await emitAck(u1, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'original'), 'operator-1'));
    await nextEvent(op, 'messageUpdated', T, aboutMessage(m));
    flush(u1);
    assertErr(await emitAck(op, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'overwrite'), 'user-1'), 'CONFLICT');
    await noEvent(u1, 'messageUpdated', Q, aboutMessage(m));
    const msgs = await messagesOf(t.ticketId);
    assert.deepEqual(msgs.map((x) => [x.messageId, x.content, x.senderId]), [[m, 'original', 'user-1']]);
  });
});

describe('ticket state machine', () => {
  test('invalid transitions: INVALID_TRANSITION, nothing changes', async () => {
    const user = await asUser('user-2');
    const op = await asOperator('operator-1');
    const observer = await asOperator('operator-2');
    const fresh = await createTicket(user, op);
    flush(observer);
    // 100 → 200 is accept's job, not updateTicketStatus's.
    assertErr(await emitAck(op, 'updateTicketStatus', fresh.ticketId, fresh, 200, fresh.ownerId), 'INVALID_TRANSITION', '100→200');
    const open = await openTicket(user, op, observer);
    assertErr(await emitAck(op, 'updateTicketStatus', open.ticketId, open, 100, open.ownerId), 'INVALID_TRANSITION', '200→100');
    assertTicket(await ticketAsOperator(open.ticketId), { statusId: 200 });
    assertOk(await emitAck(op, 'updateTicketStatus', open.ticketId, open, 10000, open.ownerId), 'close');
    await nextEvent(user, 'ticketStatusUpdated', T, aboutTicket(open.ticketId));
    // Closing again is an idempotent retry by the one allowed: null, no event.
    assertOk(await emitAck(op, 'updateTicketStatus', open.ticketId, open, 10000, open.ownerId), 'close again');
    await noEvent(user, 'ticketStatusUpdated', Q, aboutTicket(open.ticketId));
    assertErr(await emitAck(op, 'updateTicketStatus', open.ticketId, open, 100, open.ownerId), 'INVALID_TRANSITION', '10000→100');
    assertErr(await emitAck(op, 'assignTicket', { ticketId: open.ticketId, handleById: 'operator-2' }), 'INVALID_TRANSITION', 'assign a closed ticket');
    assertErr(await emitAck(observer, 'assignTicket', { ticketId: open.ticketId, handleById: null }), 'INVALID_TRANSITION', 'hijack a closed ticket');
    await noEvent(user, 'ticketStatusUpdated', Q, aboutTicket(open.ticketId));
    await noEvent(user, 'ticketAccepted', 0, aboutTicket(open.ticketId));
    await noEvent(observer, 'notifyOfAssignment', 0, aboutTicket(open.ticketId));
    assertTicket(await ticketAsOperator(open.ticketId), { statusId: 10000, handleById: 'operator-1' });
    assertTicket(await ticketAsOperator(fresh.ticketId), { statusId: 100, handleById: '' });
  });

  test('accepting a ticket someone else handles: CONFLICT', async () => {
    const user = await asUser('user-3');
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const t = await openTicket(user, op1);
    assertErr(await emitAck(op2, 'acceptTicket', t.ticketId, t, t.ownerId), 'CONFLICT');
    await noEvent(user, 'ticketAccepted', Q, aboutTicket(t.ticketId));
    assertTicket(await ticketAsOperator(t.ticketId), { handleById: 'operator-1' });
  });

  test('assignTicket to an unknown operator: NOT_FOUND; unknown ticket: NOT_FOUND', async () => {
    const user = await asUser('user-1');
    const op = await asOperator('operator-1');
    const t = await openTicket(user, op);
    assertErr(await emitAck(op, 'assignTicket', { ticketId: t.ticketId, handleById: 'operator-does-not-exist' }), 'NOT_FOUND', 'unknown operator');
    assertErr(await emitAck(op, 'assignTicket', { ticketId: t.ticketId, handleById: 'user-2' }), 'NOT_FOUND', 'a user is not an operator');
    assertErr(await emitAck(op, 'assignTicket', { ticketId: uuid(), handleById: null }), 'NOT_FOUND', 'unknown ticket');
    assertErr(await emitAck(op, 'acceptTicket', uuid(), ticketObject(uuid()), 'user-1'), 'NOT_FOUND', 'accept unknown ticket');
    await noEvent(user, 'ticketAccepted', Q, aboutTicket(t.ticketId));
    assertTicket(await ticketAsOperator(t.ticketId), { handleById: 'operator-1', statusId: 200 });
  });
});
