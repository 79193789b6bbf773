// One state seen through both protocols (spec/chat.md, Decisions): a
// ticket is a ONETOONE chat session between its owner and its handler;
// messages, reads and typing cross between the livechat and the chat
// protocol; presence and status are one model.
import { strict as assert } from 'node:assert';
import { describe, test, afterEach } from 'node:test';

import {
  setupSuite, uuid, asUser, asOperator, ticketObject, messageObject, assertOk,
} from '../lib/harness.mjs';
import { emitAck, nextEvent, aboutTicket, currentServer, sleep, flush } from '../lib/server.mjs';
import { tokenFor } from '../lib/tokens.mjs';
import {
  asChatUser, closeChatSockets, request, nextPush, ok, sendMsg, createChat, assertSession, assertMsg, memberNames,
} from '../lib/chat.mjs';

// The general chat model (everyone in a tenant sees everyone); the default
// directory policy is held by the Go tests (chat/directory_test.go).
setupSuite({ env: { SWITCHBOARD_OIDC_TENANT_CLAIM: 'tenant', SWITCHBOARD_CHAT_DIRECTORY: 'tenant' } });
afterEach(() => closeChatSockets());

const about = (id) => (env) => env?.payload?.chatSessionId === id;

/** user opens a ticket on livechat and op accepts it; resolves the ticketId. */
async function openTicket(userLc, opLc) {
  const ticketId = uuid();
  assertOk(await emitAck(userLc, 'createTicket', ticketId, ticketObject(ticketId, { ticketNm: 'Broken order' })), 'createTicket');
  const [t] = await nextEvent(opLc, 'ticketCreated', 3000, aboutTicket(ticketId));
  assertOk(await emitAck(opLc, 'acceptTicket', ticketId, t, t.ownerId), 'acceptTicket');
  await nextEvent(userLc, 'ticketAccepted', 3000, aboutTicket(ticketId));
  return ticketId;
}

describe('a ticket is a chat session', () => {
  test('listed by getChatSessions of its owner and its handler, with SYSNOTIF messages of its transitions', async () => {
    const userChat = await asChatUser('user-1');
    const opChat = await asChatUser('operator-1');
    const userLc = await asUser('user-1');
    const opLc = await asOperator('operator-1');
    const ticketId = await openTicket(userLc, opLc);
    // Each hears of the session when it becomes theirs.
    assertSession((await nextPush(userChat, 'chatCreated', about(ticketId))).payload, { sessionType: 'ONETOONE', title: 'Broken order' });
    await nextPush(opChat, 'chatCreated', about(ticketId));
    const note = (await nextPush(userChat, 'chatMsg', about(ticketId))).payload;
    assertMsg(note, { msgType: 'SYSNOTIF', sender: 'operator-1' });
    assert.match(note.content, /accepted/);
    for (const s of [userChat, opChat]) {
      const list = ok(await request(s, 'getChatSessions', { numOfRes: 500, numOfResMsg: 5 }, 'recentSessions'));
      const found = list.sessions.find((x) => x.chatSessionId === ticketId);
      assert.ok(found, `${s.who} lists the ticket`);
      assertSession(found, { sessionType: 'ONETOONE', creator: 'user-1' });
      assert.deepStrictEqual(memberNames(found), ['operator-1', 'user-1']);
      assert.ok(found.messages.some((m) => m.msgType === 'SYSNOTIF'));
    }
    // Closing and reopening are recorded too; livechat's history has no system notes.
    assertOk(await emitAck(opLc, 'updateTicketStatus', ticketId, {}, 10000, 'user-1'));
    assert.match((await nextPush(userChat, 'chatMsg', (e) => about(ticketId)(e) && /closed/.test(e.payload.content))).payload.content, /closed/);
    assertOk(await emitAck(opLc, 'updateTicketStatus', ticketId, {}, 200, 'user-1'));
    await nextPush(userChat, 'chatMsg', (e) => about(ticketId)(e) && /reopened/.test(e.payload.content));
    const res = await fetch(`${currentServer().url}/api/v1/tickets/${ticketId}/messages`, { headers: { authorization: `Bearer ${await tokenFor('user-1')}` } });
    assert.equal(res.status, 200);
    const body = await res.json();
    const listed = Array.isArray(body) ? body : Object.values(body).find(Array.isArray);
    assert.equal(listed.length, 0, 'no livechat messages yet: system notes are the chat protocol\'s');
  });

  test('sendMsg in a ticket reaches livechat as messageUpdated; updateMessage reaches chat as chatMsg', async () => {
    const userChat = await asChatUser('user-2');
    const userLc = await asUser('user-2');
    const opLc = await asOperator('operator-2');
    const ticketId = await openTicket(userLc, opLc);

    const sent = await sendMsg(userChat, ticketId, 'written in chat');
    const [m] = await nextEvent(opLc, 'messageUpdated', 3000, (a) => a[0]?.messageId === sent.msgId);
    assert.equal(m.ticketId, ticketId);
    assert.equal(m.content, 'written in chat');
    assert.equal(m.senderId, 'user-2');
    assert.equal(m.recipientId, 'operator-2');
    // The owner's livechat socket hears its own message sent from chat.
    await nextEvent(userLc, 'messageUpdated', 3000, (a) => a[0]?.messageId === sent.msgId);

    const messageId = uuid();
    assertOk(await emitAck(opLc, 'updateMessage', ticketId, messageId, messageObject(ticketId, messageId, 'written in livechat'), 'user-2'));
    const cm = (await nextPush(userChat, 'chatMsg', (e) => e.payload.msgId === messageId)).payload;
    assertMsg(cm, { chatSessionId: ticketId, content: 'written in livechat', sender: 'operator-2', msgType: 'USER', read: false });

    // Reads cross too: chat markMsgRead → livechat messageStatusUpdated;
    // livechat updateMessageStatus 3 → chat msgMarkedRead receipt.
    const r = ok(await request(userChat, 'markMsgRead', { chatSessionId: ticketId, messages: [messageId] }, 'msgMarkedRead'));
    assert.equal(r.msgCount, 1);
    const st = await nextEvent(opLc, 'messageStatusUpdated', 3000, (a) => a[0] === messageId);
    assert.deepStrictEqual(st, [messageId, 3]);
    assertOk(await emitAck(opLc, 'updateMessageStatus', sent.msgId, 3, 'operator-2', 'user-2', false));
    const receipt = (await nextPush(userChat, 'msgMarkedRead', about(ticketId))).payload;
    assert.deepStrictEqual(receipt.messages, [sent.msgId]);
    assert.equal(receipt.username, 'operator-2');
    const list = ok(await request(userChat, 'getChatMessages', { chatSessionId: ticketId }, 'recentMessages'));
    assert.equal(list.messages.find((x) => x.chatMsgId === messageId).read, true);
  });

  test('typing crosses: sendUserAction TYPING ↔ livechat typing', async () => {
    const userChat = await asChatUser('user-3');
    const userLc = await asUser('user-3');
    const opLc = await asOperator('operator-3');
    const ticketId = await openTicket(userLc, opLc);
    ok(await request(userChat, 'sendUserAction', { chatSessionId: ticketId, action: 'TYPING' }, 'userAction'));
    assert.deepStrictEqual(await nextEvent(opLc, 'typing', 3000, aboutTicket(ticketId)), [ticketId, 'User Three']);
    assertOk(await emitAck(opLc, 'typing', ticketId, 'user-3'));
    const ua = (await nextPush(userChat, 'userAction', about(ticketId))).payload;
    assert.equal(ua.username, 'operator-3');
    assert.equal(ua.action, 'TYPING');
  });
});

describe('presence and status are one model', () => {
  test('a user online only on livechat is online to chat users; its last socket going is userDisconnected', async () => {
    const op = await asChatUser('operator-2');
    (await asChatUser('user-1')).close(); // known to the chat protocol
    const { chatSessionId } = await createChat(op, ['user-1']);
    const online = async () => ok(await request(op, 'getChatUsers', { usernames: ['user-1'] }, 'chatUsers')).users[0].online;
    for (let i = 0; i < 50 && await online(); i++) await sleep(20); // its sockets of earlier tests are going
    assert.equal(await online(), false);
    const lc = await asUser('user-1', { subscribe: false });
    assert.equal((await nextPush(op, 'userOnline', (e) => e.payload.username === 'user-1')).payload.online, true);
    // The first chat socket's going may have reached op too, if its presence
    // change committed after createChat: pushes come in commit order, so it
    // is queued before this userOnline, and only a later userDisconnected
    // is lc's.
    flush(op);
    let u = ok(await request(op, 'getChatUsers', { usernames: ['user-1'] }, 'chatUsers')).users[0];
    assert.equal(u.online, true);
    const s = ok(await request(op, 'getChatSessions', { numOfRes: 500 }, 'recentSessions')).sessions.find((x) => x.chatSessionId === chatSessionId);
    assert.equal(s.members.find((m) => m.username === 'user-1').online, true);
    lc.close();
    await nextPush(op, 'userDisconnected', (e) => e.payload.username === 'user-1');
    u = ok(await request(op, 'getChatUsers', { usernames: ['user-1'] }, 'chatUsers')).users[0];
    assert.equal(u.online, false);
  });

  test('setStatus and PUT /api/v1/operators/me/status are the same stored status, pushed the same way', async () => {
    const op = await asChatUser('operator-3');
    const peer = await asChatUser('user-3');
    await createChat(op, ['user-3']);
    ok(await request(op, 'setStatus', { status: 'BUSY', statusMsg: 'queue' }, 'statusChanged'));
    await nextPush(peer, 'statusChanged', (e) => e.payload.username === 'operator-3' && e.payload.status === 'BUSY');
    const token = await tokenFor('operator-3');
    let res = await fetch(`${currentServer().url}/api/v1/operators`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const roster = await res.json();
    const list = Array.isArray(roster) ? roster : Object.values(roster).find(Array.isArray);
    assert.equal(list.find((o) => o.operatorId === 'operator-3').status, 'BUSY');
    res = await fetch(`${currentServer().url}/api/v1/operators/me/status`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ status: 'AWAY' }),
    });
    assert.equal(res.status, 200);
    const me = ok(await request(op, 'getChatUsers', { usernames: ['operator-3'] }, 'chatUsers')).users[0];
    assert.equal(me.status, 'AWAY');
    // Set over REST, it is pushed as setStatus pushes it.
    await nextPush(peer, 'statusChanged', (e) => e.payload.username === 'operator-3' && e.payload.status === 'AWAY');
    await nextPush(op, 'statusChanged', (e) => e.payload.status === 'AWAY');
  });

  test('a livechat profile change is userDetailsUpdated to chat users sharing a session', async () => {
    const op = await asChatUser('operator-1');
    (await asChatUser('user-2')).close();
    await createChat(op, ['user-2']);
    await asUser('user-2', { profile: { userId: 'user-2', email: 'two@example.com' } });
    const d = (await nextPush(op, 'userDetailsUpdated', (e) => e.payload.username === 'user-2')).payload;
    assert.equal(d.clientId, 'acme');
    assert.equal(typeof d.fullName, 'string');
  });
});
