// Operator tools over the real protocol: a supervisor of the OpenID
// provider (supervisor-1: roles operator and supervisor) reads the
// overview, an operator may not; the owner rates a closed ticket once
// with rateTicket, and operators hear ticketRated.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import { emitAck, nextEvent, aboutTicket, apiGet } from '../lib/server.mjs';
import { tokenFor } from '../lib/tokens.mjs';
import { setupSuite, uuid, asUser, asOperator, ticketObject, assertTicket, assertOk, assertErr, ISO_MS } from '../lib/harness.mjs';

setupSuite();

const T = 3000;

describe('supervisors', () => {
  test("the provider's supervisor-1 reads the overview, operator-2 may not", async () => {
    const sup = await apiGet('/api/v1/supervisor/overview', await tokenFor('supervisor-1'));
    assert.equal(sup.status, 200, JSON.stringify(sup.body));
    assert.ok(Array.isArray(sup.body.operators) && Array.isArray(sup.body.queue), JSON.stringify(sup.body));
    const op = await apiGet('/api/v1/supervisor/overview', await tokenFor('operator-2'));
    assert.equal(op.status, 403);
    assert.equal(op.body.code, 'FORBIDDEN');
  });
});

describe('rateTicket', () => {
  test('the owner rates a closed ticket once; operators hear ticketRated', async () => {
    const u = await asUser('user-1');
    const op = await asOperator('operator-2');
    const ticketId = uuid();
    assertOk(await emitAck(u, 'createTicket', ticketId, ticketObject(ticketId)));
    const [t] = await nextEvent(op, 'ticketCreated', T, aboutTicket(ticketId));
    assert.equal(t.rating, null);
    assert.deepStrictEqual(t.labels, []);
    assertErr(await emitAck(u, 'rateTicket', { ticketId, score: 5 }), 'INVALID_TRANSITION', 'an open ticket');
    assertOk(await emitAck(op, 'acceptTicket', ticketId, t, t.ownerId));
    assertOk(await emitAck(op, 'updateTicketStatus', ticketId, t, 10000, t.ownerId));
    assertErr(await emitAck(op, 'rateTicket', { ticketId, score: 5 }), 'FORBIDDEN', 'an operator');
    assertErr(await emitAck(u, 'rateTicket', { ticketId, score: 6 }), 'INVALID_REQUEST', 'score 6');
    assertOk(await emitAck(u, 'rateTicket', { ticketId, score: 5, comment: 'thanks' }));
    const [rated] = await nextEvent(op, 'ticketRated', T, aboutTicket(ticketId));
    assert.equal(rated.score, 5);
    assert.equal(rated.comment, 'thanks');
    assert.match(rated.at, ISO_MS);
    assertErr(await emitAck(u, 'rateTicket', { ticketId, score: 1 }), 'CONFLICT', 'a second rating');
    const got = await apiGet(`/api/v1/tickets/${ticketId}`, await tokenFor('user-1'));
    assertTicket(got.body, { ticketId, statusId: 10000, rating: { score: 5, comment: 'thanks', at: rated.at } });
  });
});
