// The REST catch-up API: GET /api/v1/tickets[?status=] and
// GET /api/v1/tickets/{ticketId}/messages[?since=<messageId | ISO time>].
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import {
  emitAck, nextEvent, aboutTicket, aboutMessage, apiGet, getTickets, getMessages, sleep,
} from '../lib/server.mjs';
import { tokenFor, idTokenFor, wrongAudienceTokenFor } from '../lib/tokens.mjs';
import {
  setupSuite, uuid, asUser, asOperator, ticketObject, messageObject, assertTicket, assertMessage, assertOk,
} from '../lib/harness.mjs';

setupSuite();

const T = 3000;

async function createTicket(user, observer, extra) {
  const ticketId = uuid();
  assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId, extra)));
  const [t] = await nextEvent(observer, 'ticketCreated', T, aboutTicket(ticketId));
  return t;
}

describe('GET /api/v1/tickets', () => {
  test('a user sees its own tickets, an operator all; ?status= filters', async () => {
    const u1 = await asUser('user-1');
    const u2 = await asUser('user-2');
    const op = await asOperator('operator-1');
    const a = await createTicket(u1, op, { displayNm: 'A' });
    const b = await createTicket(u1, op, { displayNm: 'B' });
    const c = await createTicket(u2, op, { displayNm: 'C' });
    assertOk(await emitAck(op, 'acceptTicket', a.ticketId, a, a.ownerId));
    await nextEvent(u1, 'ticketAccepted', T, aboutTicket(a.ticketId));

    const r1 = await getTickets(await tokenFor('user-1'));
    assert.equal(r1.status, 200);
    assert.match(r1.headers.get('content-type') || '', /application\/json/);
    const ids1 = r1.tickets.map((t) => t.ticketId);
    assert.ok(ids1.includes(a.ticketId) && ids1.includes(b.ticketId), 'own tickets');
    assert.ok(!ids1.includes(c.ticketId), "not another user's");
    for (const t of r1.tickets) assert.equal(t.ownerId, 'user-1');
    assertTicket(r1.tickets.find((t) => t.ticketId === a.ticketId), {
      ticketId: a.ticketId,
      displayNm: 'A',
      ticketNm: a.ticketNm,
      statusId: 200,
      handleById: 'operator-1',
      handleByNm: 'Operator One',
      ownerId: 'user-1',
      ownerNm: 'User One',
      programId: '',
      isExternal: false,
      createdAt: a.createdAt,
    });
    assertTicket(r1.tickets.find((t) => t.ticketId === b.ticketId), { statusId: 100, handleById: '', handleByNm: '' });

    const r2 = await getTickets(await tokenFor('user-2'));
    const ids2 = r2.tickets.map((t) => t.ticketId);
    assert.ok(ids2.includes(c.ticketId) && !ids2.includes(a.ticketId) && !ids2.includes(b.ticketId));

    const all = await getTickets(await tokenFor('operator-2'));
    assert.equal(all.status, 200);
    const idsAll = all.tickets.map((t) => t.ticketId);
    for (const t of [a, b, c]) assert.ok(idsAll.includes(t.ticketId), `operator sees ${t.displayNm}`);

    const news = await getTickets(await tokenFor('operator-2'), 100);
    assert.equal(news.status, 200);
    const idsNew = news.tickets.map((t) => t.ticketId);
    assert.ok(idsNew.includes(b.ticketId) && idsNew.includes(c.ticketId) && !idsNew.includes(a.ticketId));
    for (const t of news.tickets) assert.equal(t.statusId, 100);

    const opened = await getTickets(await tokenFor('operator-2'), 200);
    assert.ok(opened.tickets.some((t) => t.ticketId === a.ticketId));
    for (const t of opened.tickets) assert.equal(t.statusId, 200);

    assertOk(await emitAck(op, 'updateTicketStatus', b.ticketId, b, 10000, b.ownerId), 'reject b');
    await nextEvent(u1, 'ticketStatusUpdated', T, aboutTicket(b.ticketId));
    const closed = await getTickets(await tokenFor('user-1'), 10000);
    assert.deepEqual(closed.tickets.map((t) => t.ticketId).filter((id) => [a.ticketId, b.ticketId].includes(id)), [b.ticketId]);
    for (const t of closed.tickets) assert.equal(t.statusId, 10000);
  });

  test('401 without a valid token', async () => {
    const bad = [
      undefined,
      'garbage',
      await wrongAudienceTokenFor('operator-1'),
      await idTokenFor('operator-1'),
    ];
    for (const token of bad) {
      const r = await apiGet('/api/v1/tickets', token);
      assert.equal(r.status, 401, `tickets with ${token?.slice(0, 12)}`);
      const m = await apiGet(`/api/v1/tickets/${uuid()}/messages`, token);
      assert.equal(m.status, 401, `messages with ${token?.slice(0, 12)}`);
    }
  });
});

describe('GET /api/v1/tickets/{id}/messages', () => {
  test('messages in commit order with current status; since = message id or ISO time, exclusive', async () => {
    const user = await asUser('user-3');
    const op = await asOperator('operator-2');
    const t = await createTicket(user, op);
    assertOk(await emitAck(op, 'acceptTicket', t.ticketId, t, t.ownerId));
    await nextEvent(user, 'ticketAccepted', T, aboutTicket(t.ticketId));

    const plan = [
      [user, 'operator-2', 'first'],
      [user, 'operator-2', 'second'],
      [user, 'operator-2', 'third'],
      [op, 'user-3', 'an answer'],
      [user, 'operator-2', 'fifth'],
      [user, 'operator-2', 'sixth'],
    ];
    const ids = [];
    for (const [i, [s, to, text]] of plan.entries()) {
      const id = uuid();
      ids.push(id);
      assertOk(await emitAck(s, 'updateMessage', t.ticketId, id, messageObject(t.ticketId, id, text), to));
      if (i === 2) await sleep(5); // a clock step between the third and the fourth
    }
    await nextEvent(op, 'messageUpdated', T, aboutMessage(ids[5]));
    assertOk(await emitAck(op, 'updateMessageStatus', ids[0], 3, 'operator-2', 'user-3', false));
    await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(ids[0]));
    assertOk(await emitAck(user, 'updateMessageStatus', ids[3], 2, 'user-3', 'operator-2', true));
    await nextEvent(op, 'messageStatusUpdated', T, aboutMessage(ids[3]));

    const full = await getMessages(await tokenFor('user-3'), t.ticketId);
    assert.equal(full.status, 200);
    assert.deepEqual(full.messages.map((m) => m.messageId), ids, 'commit order');
    full.messages.forEach((m, i) => {
      const fromUser = plan[i][0] === user;
      assertMessage(m, {
        ticketId: t.ticketId,
        messageId: ids[i],
        content: plan[i][2],
        type: 1,
        encoding: 'utf-8',
        senderId: fromUser ? 'user-3' : 'operator-2',
        senderNm: fromUser ? 'User Three' : 'Operator Two',
        recipientId: fromUser ? 'operator-2' : 'user-3',
        recipientNm: fromUser ? 'Operator Two' : 'User Three',
        programId: '',
        statusId: i === 0 ? 3 : i === 3 ? 2 : 1,
      });
    });
    for (let i = 1; i < full.messages.length; i++) {
      assert.ok(full.messages[i].createdAt >= full.messages[i - 1].createdAt, 'createdAt never goes back in commit order');
    }

    const asOp = await getMessages(await tokenFor('operator-2'), t.ticketId);
    assert.deepEqual(asOp.messages.map((m) => m.messageId), ids, 'the handler sees the same');

    const since2 = await getMessages(await tokenFor('user-3'), t.ticketId, ids[1]);
    assert.equal(since2.status, 200);
    assert.deepEqual(since2.messages.map((m) => m.messageId), ids.slice(2), 'since=<messageId> is exclusive');
    const sinceLast = await getMessages(await tokenFor('user-3'), t.ticketId, ids[5]);
    assert.deepEqual(sinceLast.messages, [], 'nothing after the last');

    const longAgo = await getMessages(await tokenFor('user-3'), t.ticketId, '2000-01-01T00:00:00.000Z');
    assert.deepEqual(longAgo.messages.map((m) => m.messageId), ids);
    const at = full.messages[2].createdAt;
    const sinceTime = await getMessages(await tokenFor('operator-2'), t.ticketId, at);
    assert.equal(sinceTime.status, 200);
    const expected = full.messages.filter((m) => Date.parse(m.createdAt) > Date.parse(at)).map((m) => m.messageId);
    assert.ok(expected.length >= 3, 'the 4th..6th are strictly later (5 ms pause)');
    assert.deepEqual(sinceTime.messages.map((m) => m.messageId), expected, 'since=<time>: createdAt strictly later, in commit order');
    const sinceLastTime = await getMessages(await tokenFor('user-3'), t.ticketId, full.messages[5].createdAt);
    assert.deepEqual(sinceLastTime.messages, []);
  });

  test("404 for another user's ticket and for an unknown ticket", async () => {
    const u1 = await asUser('user-1');
    const op = await asOperator('operator-1');
    const t = await createTicket(u1, op);
    const m = uuid();
    assertOk(await emitAck(u1, 'updateMessage', t.ticketId, m, messageObject(t.ticketId, m, 'private'), ''));
    const other = await getMessages(await tokenFor('user-2'), t.ticketId);
    assert.equal(other.status, 404, "another user's ticket is 404, not 403");
    assert.ok(!JSON.stringify(other.body).includes('private'));
    const otherSince = await getMessages(await tokenFor('user-2'), t.ticketId, '2000-01-01T00:00:00.000Z');
    assert.equal(otherSince.status, 404);
    const unknown = await getMessages(await tokenFor('user-1'), uuid());
    assert.equal(unknown.status, 404);
    const unknownOp = await getMessages(await tokenFor('operator-1'), uuid());
    assert.equal(unknownOp.status, 404);
    const own = await getMessages(await tokenFor('user-1'), t.ticketId);
    assert.equal(own.status, 200);
    assert.deepEqual(own.messages.map((x) => x.messageId), [m]);
    assertMessage(own.messages[0], { recipientId: '', recipientNm: '', senderId: 'user-1', statusId: 1 });
  });
});
