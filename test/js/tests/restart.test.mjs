// Durability: an ack null means the change is committed. Restart the server
// (SIGTERM, start again on the same database) and everything acknowledged is
// there; a client that was offline catches up with `since`.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import {
  connect, authenticate, emitAck, nextEvent, aboutTicket, aboutMessage, getMessages, getTickets, noEvent,
} from '../lib/server.mjs';
import { tokenFor } from '../lib/tokens.mjs';
import {
  setupSuite, uuid, asUser, asOperator, ticketObject, messageObject, assertTicket, assertMessage, assertOk,
} from '../lib/harness.mjs';

const ctx = setupSuite();

const T = 3000;
const N = 30;

describe('restart', () => {
  test(`${N} acked messages survive a restart; the offline operator catches up with since`, async () => {
    let user = await asUser('user-1');
    let op = await asOperator('operator-1');
    const ticketId = uuid();
    assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)));
    const [created] = await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
    assertOk(await emitAck(op, 'acceptTicket', ticketId, created, created.ownerId));
    await nextEvent(user, 'ticketAccepted', T, aboutTicket(ticketId));

    const ids = [];
    const send = async (i) => {
      const id = uuid();
      ids.push(id);
      assertOk(await emitAck(user, 'updateMessage', ticketId, id, messageObject(ticketId, id, `message ${i}`), 'operator-1'), `message ${i}`);
    };
    for (let i = 1; i <= 10; i++) await send(i);
    for (const id of ids) await nextEvent(op, 'messageUpdated', T, aboutMessage(id));
    const lastSeen = ids[9];
    assertOk(await emitAck(op, 'updateMessageStatus', 'all', 3, 'operator-1', 'user-1', false));
    for (const id of ids) await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(id));
    op.close(); // the operator goes offline

    for (let i = 11; i <= N; i++) await send(i);

    const stopped = await ctx.server.stop();
    assert.equal(stopped.killed, false, 'the server exits within 10 s of SIGTERM');
    await ctx.server.start();

    const r = await getMessages(await tokenFor('user-1'), ticketId);
    assert.equal(r.status, 200);
    assert.deepEqual(r.messages.map((m) => m.messageId), ids, `all ${N} acknowledged messages, in order`);
    r.messages.forEach((m, i) => assertMessage(m, {
      content: `message ${i + 1}`, senderId: 'user-1', recipientId: 'operator-1', statusId: i < 10 ? 3 : 1,
    }));
    const { tickets } = await getTickets(await tokenFor('operator-1'));
    assertTicket(tickets.find((t) => t.ticketId === ticketId), { statusId: 200, handleById: 'operator-1', ownerId: 'user-1' });

    // The operator comes back and catches up from the last message it saw.
    const missed = await getMessages(await tokenFor('operator-1'), ticketId, lastSeen);
    assert.equal(missed.status, 200);
    assert.deepEqual(missed.messages.map((m) => m.messageId), ids.slice(10));

    // Live traffic works again after the restart, with the same tokens.
    user = await asUser('user-1');
    op = await asOperator('operator-1');
    const again = ids[N - 1];
    assertOk(await emitAck(user, 'updateMessage', ticketId, again, messageObject(ticketId, again, `message ${N}`), 'operator-1'), 'retry after restart is idempotent');
    await noEvent(op, 'messageUpdated', 400, aboutMessage(again));
    const next = uuid();
    assertOk(await emitAck(user, 'updateMessage', ticketId, next, messageObject(ticketId, next, 'after restart'), 'operator-1'));
    const [msg] = await nextEvent(op, 'messageUpdated', T, aboutMessage(next));
    assertMessage(msg, { senderId: 'user-1', recipientId: 'operator-1', content: 'after restart' });
    assertOk(await emitAck(op, 'updateMessageStatus', 'all', 3, 'operator-1', 'user-1', false));
    for (const id of [...ids.slice(10), next]) {
      assert.deepStrictEqual(await nextEvent(user, 'messageStatusUpdated', T, aboutMessage(id)), [id, 3]);
    }
  });

  test('every message acked before SIGTERM is stored', async () => {
    const user = await asUser('user-2');
    const op = await asOperator('operator-2');
    const ticketId = uuid();
    assertOk(await emitAck(user, 'createTicket', ticketId, ticketObject(ticketId)));
    const [created] = await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
    assertOk(await emitAck(op, 'acceptTicket', ticketId, created, created.ownerId));
    await nextEvent(user, 'ticketAccepted', T, aboutTicket(ticketId));

    const acked = [];
    const sent = [];
    let stopping = null;
    for (let i = 0; i < 200; i++) {
      const id = uuid();
      sent.push(id);
      user.emit('updateMessage', ticketId, id, messageObject(ticketId, id, `burst ${i}`), 'operator-2', (err) => {
        if (err === null) acked.push(id);
        if (acked.length === 20 && !stopping) stopping = ctx.server.stop();
      });
    }
    const deadline = Date.now() + 10_000;
    while (!stopping && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(stopping, 'at least 20 acks before the stop');
    await stopping;
    const ackedAtStop = [...acked];
    await ctx.server.start();
    const r = await getMessages(await tokenFor('user-2'), ticketId);
    assert.equal(r.status, 200);
    const stored = new Set(r.messages.map((m) => m.messageId));
    const lost = ackedAtStop.filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${ackedAtStop.length} acknowledged messages lost`);
    for (const m of r.messages) assert.ok(sent.includes(m.messageId));
  });

  test('a socket reconnects after the restart and authenticates again', async () => {
    const s = await connect();
    const p = await authenticate(s, await tokenFor('operator-3'));
    assert.equal(p.userId, 'operator-3');
  });
});
