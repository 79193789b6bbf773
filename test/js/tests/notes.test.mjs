// Internal notes with the official socket.io-client: a note an operator
// writes (addNote, and a transfer's note) reaches the other operator, with
// an alert for a mention, and no event of any kind reaches the ticket's
// owner or a program: every event those sockets receive is recorded
// (onAny, socket.__all) and searched for the notes' words once a later
// message has reached them.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import { emitAck, nextEvent, aboutTicket } from '../lib/server.mjs';
import { setupSuite, uuid, asUser, asOperator, asProgram, ticketObject, messageObject, assertOk, ISO_MS } from '../lib/harness.mjs';

setupSuite();

const T = 3000;

/** Every event a socket has received, as JSON lines. */
const received = (s) => s.__all.map((e) => `${e.event} ${JSON.stringify(e.args)}`);

describe('internal notes', () => {
  test('seen by operators, never by the owner or a program', async () => {
    const op1 = await asOperator('operator-1');
    const op2 = await asOperator('operator-2');
    const user = await asUser('user-1');
    const prog = await asProgram('program-42', '42');

    const mine = uuid();
    const theirs = uuid();
    assertOk(await emitAck(user, 'createTicket', mine, ticketObject(mine)), 'createTicket');
    assertOk(await emitAck(prog, 'createTicket', theirs, ticketObject(theirs, { programId: 'program-42' })), 'program createTicket');
    await nextEvent(op1, 'ticketCreated', T, aboutTicket(theirs));
    assertOk(await emitAck(op1, 'acceptTicket', mine, {}, 'user-1'), 'accept');
    assertOk(await emitAck(op1, 'acceptTicket', theirs, {}, ''), 'accept the program\'s');

    const noteId = uuid();
    assertOk(await emitAck(op1, 'addNote', { ticketId: mine, noteId, content: 'SECRET-A: @operator-2 please check' }), 'addNote');
    const [note] = await nextEvent(op2, 'noteAdded', T, ([n]) => n.id === noteId);
    assert.deepStrictEqual(Object.keys(note).sort(), ['authorId', 'authorNm', 'content', 'createdAt', 'id', 'isNote', 'mentions', 'ticketId']);
    assert.equal(note.ticketId, mine);
    assert.equal(note.authorId, 'operator-1');
    assert.deepStrictEqual(note.mentions, ['operator-2']);
    assert.equal(note.isNote, true);
    assert.match(note.createdAt, ISO_MS);
    const [alert] = await nextEvent(op2, 'alert', T, ([a]) => a.noteId === noteId);
    assert.equal(alert.kind, 'mention');
    assert.equal(alert.byId, 'operator-1');
    assert.equal(alert.readAt, undefined);
    // A retry acks null and sends nothing again.
    assertOk(await emitAck(op1, 'addNote', { ticketId: mine, noteId, content: 'SECRET-A again' }), 'addNote retry');

    assertOk(await emitAck(op1, 'addNote', { ticketId: theirs, content: 'SECRET-B for operators' }), 'addNote on the program\'s');
    assertOk(await emitAck(op1, 'transferTicket', { ticketId: mine, operatorId: 'operator-2', note: 'SECRET-C promised a refund' }), 'transfer');
    await nextEvent(op2, 'noteAdded', T, ([n]) => n.content.startsWith('SECRET-C'));

    // The owner and the program: refused, and nothing of the notes.
    const refused = await emitAck(user, 'addNote', { ticketId: mine, content: 'x' });
    assert.equal(refused?.code, 'FORBIDDEN');
    const marker = uuid();
    assertOk(await emitAck(op2, 'updateMessage', mine, marker, messageObject(mine, marker, 'MARKER'), ''), 'message');
    await nextEvent(user, 'messageUpdated', T, ([m]) => m.messageId === marker);
    const marker2 = uuid();
    assertOk(await emitAck(op1, 'updateMessage', theirs, marker2, messageObject(theirs, marker2, 'MARKER'), ''), 'message');
    await nextEvent(prog, 'messageUpdated', T, ([m]) => m.messageId === marker2);
    for (const s of [user, prog]) {
      const leaks = received(s).filter((e) => e.includes('SECRET') || e.startsWith('noteAdded') || e.startsWith('alert'));
      assert.deepStrictEqual(leaks, [], `${s.who} received a note`);
    }
    assert.equal(received(op2).filter((e) => e.startsWith('alert ')).length, 1, 'one alert for one mention');
  });
});
