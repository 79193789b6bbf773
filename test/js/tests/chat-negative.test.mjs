// The chat protocol refusing what it must: events before clientReady,
// failed handshakes, non-members, someone else's messages, another
// tenant's ids and malformed or oversized payloads. Each case checks the
// response event's resultCode and that nothing changed, and that the
// socket (and everyone else's) keeps working.
import { strict as assert } from 'node:assert';
import { describe, test, afterEach } from 'node:test';

import { setupSuite } from '../lib/harness.mjs';
import { tokenFor, expiringTokenFor, wrongAudienceTokenFor } from '../lib/tokens.mjs';
import {
  asChatUser, connectChat, closeChatSockets, request, requestRaw, nextPush, noPush, ok, failed,
  createChat, sendMsg,
} from '../lib/chat.mjs';
import { sleep } from '../lib/server.mjs';

// The general chat model (everyone in a tenant sees everyone); the default
// directory policy is held by the Go tests (chat/directory_test.go).
setupSuite({ env: { SWITCHBOARD_OIDC_TENANT_CLAIM: 'tenant', SWITCHBOARD_CHAT_DIRECTORY: 'tenant' } });
afterEach(() => closeChatSockets());

// Every client event with its response event and a well-formed payload.
const EVENTS = {
  createChat: ['chatCreated', { members: ['user-2'] }],
  setChatDetails: ['chatDetailsSet', { chatSessionId: 'x', title: 't' }],
  addMembers: ['membersAdded', { chatSessionId: 'x', members: ['user-2'] }],
  leaveChat: ['chatLeft', { chatSessionId: 'x' }],
  sendMsg: ['chatMsg', { chatSessionId: 'x', msg: 'm' }],
  editMsg: ['msgEdited', { chatSessionId: 'x', msgId: 'y', msg: 'm' }],
  removeMsg: ['msgRemoved', { chatSessionId: 'x', msgId: 'y' }],
  markMsgRead: ['msgMarkedRead', { chatSessionId: 'x', messages: ['y'] }],
  markSessionRead: ['sessionMarkedRead', { chatSessionId: 'x' }],
  markAllSessionsRead: ['allSessionsMarkedRead', {}],
  getChatMessages: ['recentMessages', { chatSessionId: 'x' }],
  getChatSessions: ['recentSessions', {}],
  getArchivedSessions: ['archivedSessions', {}],
  getAggregatedUsersSessions: ['aggregatedUsersSessions', {}],
  getChatUsers: ['chatUsers', {}],
  findByProperties: ['searchResults', { criteria: {} }],
  starSessions: ['sessionsStarred', { chatSessionIds: ['x'], starred: true }],
  archiveSessions: ['sessionsArchived', { chatSessionIds: ['x'], archived: true }],
  setStatus: ['statusChanged', { status: 'BUSY' }],
  sendUserAction: ['userAction', { chatSessionId: 'x', action: 'TYPING' }],
};

const disconnected = (s, ms = 2000) => new Promise((resolve, reject) => {
  if (!s.connected) return resolve();
  const t = setTimeout(() => reject(new Error('socket still connected')), ms);
  s.once('disconnect', () => { clearTimeout(t); resolve(); });
});

async function countSessions(s) {
  return ok(await request(s, 'getChatSessions', { numOfRes: 500 }, 'recentSessions')).count;
}

describe('before clientReady', () => {
  test('every event is answered by its response event with AUTHENTICATION_ERROR and changes nothing', async () => {
    const probe = await asChatUser('user-2');
    const before = await countSessions(probe);
    const { socket } = await connectChat();
    for (const [event, [response, payload]] of Object.entries(EVENTS)) {
      const payloadHere = event === 'createChat' ? { members: ['user-2'], title: 'never' } : payload;
      failed(await request(socket, event, payloadHere, response), 'AUTHENTICATION_ERROR', event);
    }
    assert.ok(socket.connected, 'still connected: it may still send clientReady');
    assert.equal(await countSessions(probe), before, 'no session was created');
    await noPush(probe, 'chatCreated', 100);
    ok(await request(socket, 'clientReady', { username: 'user-1', tokenId: await tokenFor('user-1') }, 'userOnline'));
  });

  test('a socket that never sends clientReady is closed after the grace period', async () => {
    const { socket } = await connectChat();
    await disconnected(socket, 4000);
  });
});

describe('handshake failures: userOnline with AUTHENTICATION_ERROR, then the socket is closed', () => {
  const cases = [
    ['an invalid token', async () => ({ username: 'user-1', tokenId: 'not-a-token' })],
    ['no token', async () => ({ username: 'user-1' })],
    ['a token for another audience', async () => ({ tokenId: await wrongAudienceTokenFor('user-1') })],
    ['a username that is not the token\'s subject', async () => ({ username: 'user-2', tokenId: await tokenFor('user-1') })],
    ['a clientId that is not the token\'s tenant', async () => ({ clientId: 'beta', tokenId: await tokenFor('user-1') })],
    ['isApp with a user\'s token', async () => ({ isApp: true, tokenId: await tokenFor('user-1') })],
  ];
  for (const [what, payload] of cases) {
    test(what, async () => {
      const { socket } = await connectChat();
      failed(await request(socket, 'clientReady', await payload(), 'userOnline'), 'AUTHENTICATION_ERROR', what);
      await disconnected(socket);
    });
  }

  test('a malformed clientReady body is INVALID_REQUEST', async () => {
    for (const args of [['just a string'], [{ headers: {}, payload: 'x' }], [{ headers: {} }], [42]]) {
      const { socket } = await connectChat();
      failed(await requestRaw(socket, 'clientReady', args, 'userOnline'), 'INVALID_REQUEST', JSON.stringify(args));
      await disconnected(socket);
    }
  });

  test('an expired token closes the socket', async () => {
    const token = await expiringTokenFor('user-3');
    const s = await asChatUser('user-3', { token });
    await disconnected(s, 8000);
  });
});

describe('membership and ownership', () => {
  test('a non-member reads NOT_MEMBER_OF_CHAT and writes UNAUTHORIZED / CHAT_NOT_FOUND; nothing changes', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const x = await asChatUser('user-3');
    const c = await createChat(a, ['user-2'], { title: 'private' });
    const id = c.chatSessionId;
    const m = await sendMsg(a, id, 'secret');
    await nextPush(b, 'chatMsg', (e) => e.payload.msgId === m.msgId);

    failed(await request(x, 'getChatMessages', { chatSessionId: id }, 'recentMessages'), 'NOT_MEMBER_OF_CHAT');
    failed(await request(x, 'sendMsg', { chatSessionId: id, msg: 'intrude' }, 'chatMsg'), 'UNAUTHORIZED');
    failed(await request(x, 'editMsg', { chatSessionId: id, msgId: m.msgId, msg: 'x' }, 'msgEdited'), 'UNAUTHORIZED');
    failed(await request(x, 'removeMsg', { chatSessionId: id, msgId: m.msgId }, 'msgRemoved'), 'UNAUTHORIZED');
    failed(await request(x, 'setChatDetails', { chatSessionId: id, title: 'mine' }, 'chatDetailsSet'), 'CHAT_NOT_FOUND');
    failed(await request(x, 'addMembers', { chatSessionId: id, members: ['user-3'] }, 'membersAdded'), 'CHAT_NOT_FOUND');
    failed(await request(x, 'leaveChat', { chatSessionId: id }, 'chatLeft'), 'CHAT_NOT_FOUND');
    failed(await request(x, 'markMsgRead', { chatSessionId: id, messages: [m.msgId] }, 'msgMarkedRead'), 'CHAT_NOT_FOUND');
    failed(await request(x, 'markSessionRead', { chatSessionId: id }, 'sessionMarkedRead'), 'CHAT_NOT_FOUND');
    failed(await request(x, 'starSessions', { chatSessionIds: [id], starred: true }, 'sessionsStarred'), 'CHATS_NOT_FOUND');
    failed(await request(x, 'archiveSessions', { chatSessionIds: [id], archived: true }, 'sessionsArchived'), 'CHATS_NOT_FOUND');
    failed(await request(x, 'sendUserAction', { chatSessionId: id, action: 'TYPING' }, 'userAction'), 'INVALID_REQUEST');
    const found = ok(await request(x, 'findByProperties', { criteria: { textSearch: { searchKey: 'private' } } }, 'searchResults'));
    assert.ok(!found.sessions.some((s) => s.chatSessionId === id), 'search does not find it');

    await noPush(a, 'chatMsg', 150, (e) => e.payload.chatSessionId === id);
    await noPush(a, 'chatDetailsSet', 0);
    await noPush(b, 'userAction', 0);
    const list = ok(await request(a, 'getChatMessages', { chatSessionId: id }, 'recentMessages'));
    assert.deepStrictEqual(list.messages.map((y) => y.content), ['secret']);
    const s = ok(await request(a, 'getChatSessions', { numOfRes: 500 }, 'recentSessions')).sessions.find((y) => y.chatSessionId === id);
    assert.equal(s.title, 'private');
    assert.deepStrictEqual(s.members.map((y) => y.username).sort(), ['user-1', 'user-2']);
    // An unknown session.
    failed(await request(a, 'sendMsg', { chatSessionId: 'no-such-session', msg: 'x' }, 'chatMsg'), 'CHAT_NOT_FOUND');
    failed(await request(a, 'getChatMessages', { chatSessionId: 'no-such-session' }, 'recentMessages'), 'NOT_MEMBER_OF_CHAT');
  });

  test('only its sender edits or removes a message; unknown ids are MSG_NOT_FOUND', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['user-2']);
    const m = await sendMsg(a, id, 'original');
    failed(await request(b, 'editMsg', { chatSessionId: id, msgId: m.msgId, msg: 'forged' }, 'msgEdited'), 'UNAUTHORIZED');
    failed(await request(b, 'removeMsg', { chatSessionId: id, msgId: m.msgId }, 'msgRemoved'), 'UNAUTHORIZED');
    failed(await request(a, 'editMsg', { chatSessionId: id, msgId: 'nope', msg: 'x' }, 'msgEdited'), 'MSG_NOT_FOUND');
    failed(await request(a, 'removeMsg', { chatSessionId: id, msgId: 'nope' }, 'msgRemoved'), 'MSG_NOT_FOUND');
    // A message of another session, named with this one.
    const { chatSessionId: other } = await createChat(a, ['user-3']);
    const m2 = await sendMsg(a, other, 'elsewhere');
    failed(await request(a, 'editMsg', { chatSessionId: id, msgId: m2.msgId, msg: 'x' }, 'msgEdited'), 'MSG_NOT_FOUND');
    // A SYSNOTIF message is nobody's to edit.
    ok(await request(a, 'setChatDetails', { chatSessionId: id, desc: 'd' }, 'chatDetailsSet'));
    const note = ok(await request(a, 'getChatMessages', { chatSessionId: id, numOfRes: 1 }, 'recentMessages')).messages[0];
    assert.equal(note.msgType, 'SYSNOTIF');
    failed(await request(a, 'editMsg', { chatSessionId: id, msgId: note.chatMsgId, msg: 'x' }, 'msgEdited'), 'UNAUTHORIZED');
    await noPush(b, 'msgEdited', 100);
    await noPush(b, 'msgRemoved', 0);
    const list = ok(await request(b, 'getChatMessages', { chatSessionId: id }, 'recentMessages'));
    assert.equal(list.messages.find((y) => y.chatMsgId === m.msgId).content, 'original');
  });

  test('starSessions with one id that is not the user\'s changes none of them', async () => {
    const a = await asChatUser('user-1');
    const { chatSessionId: mine } = await createChat(a, ['user-2']);
    const c = await asChatUser('user-3');
    const { chatSessionId: theirs } = await createChat(c, ['user-2']);
    failed(await request(a, 'starSessions', { chatSessionIds: [mine, theirs], starred: true }, 'sessionsStarred'), 'CHATS_NOT_FOUND');
    const s = ok(await request(a, 'getChatSessions', { numOfRes: 500 }, 'recentSessions')).sessions.find((y) => y.chatSessionId === mine);
    assert.equal(s.starred, false);
  });
});

describe('tenants', () => {
  test('another tenant\'s sessions, users and messages do not exist for a user', async () => {
    const a = await asChatUser('user-1');
    const beta = await asChatUser('beta-1');
    await asChatUser('beta-2');
    assert.equal(beta.me.clientId, 'beta');
    const { chatSessionId: id } = await createChat(a, ['user-2'], { title: 'acme only' });
    const m = await sendMsg(a, id, 'acme words');

    failed(await request(beta, 'getChatMessages', { chatSessionId: id }, 'recentMessages'), 'NOT_MEMBER_OF_CHAT');
    failed(await request(beta, 'sendMsg', { chatSessionId: id, msg: 'x' }, 'chatMsg'), 'CHAT_NOT_FOUND');
    failed(await request(beta, 'editMsg', { chatSessionId: id, msgId: m.msgId, msg: 'x' }, 'msgEdited'), 'CHAT_NOT_FOUND');
    failed(await request(beta, 'setChatDetails', { chatSessionId: id, title: 'x' }, 'chatDetailsSet'), 'CHAT_NOT_FOUND');
    failed(await request(beta, 'starSessions', { chatSessionIds: [id], starred: true }, 'sessionsStarred'), 'CHATS_NOT_FOUND');
    failed(await request(beta, 'createChat', { members: ['user-1'] }, 'chatCreated'), 'INVALID_REQUEST', 'a user of another tenant is unknown');
    const users = ok(await request(beta, 'getChatUsers', { numOfRes: 500 }, 'chatUsers'));
    assert.deepStrictEqual(users.users.map((u) => u.username).sort(), ['beta-1', 'beta-2']);
    assert.equal(users.count, 2);
    assert.ok(users.users.every((u) => u.clientId === 'beta'));
    const found = ok(await request(beta, 'findByProperties', { criteria: { textSearch: { searchKey: 'acme' } } }, 'searchResults'));
    assert.equal(found.count, 0);
    // A payload naming another clientId or username is refused.
    failed(await request(beta, 'getChatUsers', { clientId: 'acme' }, 'chatUsers'), 'AUTHENTICATION_ERROR');
    failed(await request(beta, 'getChatSessions', { username: 'user-1' }, 'recentSessions'), 'AUTHENTICATION_ERROR');
    // Within beta, all is normal; acme hears nothing of it.
    const bc = await createChat(beta, ['beta-2'], { title: 'beta chat' });
    assert.equal(bc.clientId, 'beta');
    await noPush(a, 'chatCreated', 150, (e) => e.payload.chatSessionId === bc.chatSessionId);
    const list = ok(await request(a, 'getChatMessages', { chatSessionId: id }, 'recentMessages'));
    assert.deepStrictEqual(list.messages.map((y) => y.content), ['acme words']);
  });
});

describe('malformed payloads: INVALID_REQUEST, nothing changes, the socket keeps working', () => {
  test('bodies and payloads of the wrong shape', async () => {
    const a = await asChatUser('user-1');
    const before = await countSessions(a);
    for (const args of [[], ['text'], [17], [null], [[1, 2]], [{ headers: {} }], [{ payload: 'x' }], [{ payload: [1] }]]) {
      failed(await requestRaw(a, 'createChat', args, 'chatCreated'), 'INVALID_REQUEST', JSON.stringify(args));
    }
    assert.equal(await countSessions(a), before);
    assert.ok(a.connected);
  });

  test('fields of the wrong type, missing, out of range or too large', async () => {
    const a = await asChatUser('user-2');
    const b = await asChatUser('user-3');
    const { chatSessionId: id } = await createChat(a, ['user-3']);
    const m = await sendMsg(a, id, 'keep me');
    await nextPush(b, 'chatMsg', (e) => e.payload.msgId === m.msgId);
    const before = await countSessions(a);
    const cases = [
      ['createChat', 'chatCreated', { members: 'user-3' }],
      ['createChat', 'chatCreated', { members: [] }],
      ['createChat', 'chatCreated', { members: [42] }],
      ['createChat', 'chatCreated', { members: ['user-3'], title: 7 }],
      ['createChat', 'chatCreated', { members: ['user-3'], title: 'x'.repeat(2000) }],
      ['createChat', 'chatCreated', { members: ['user-3'], sesType: 'GROUP' }],
      ['createChat', 'chatCreated', { members: ['user-3'], sesType: 'SYSNOTIF' }],
      ['createChat', 'chatCreated', { members: ['user-3', 'user-1'], sesType: 'ONETOONE' }],
      ['createChat', 'chatCreated', { members: ['no-such-user'] }],
      ['createChat', 'chatCreated', { members: Array.from({ length: 300 }, (_, i) => `u${i}`) }],
      ['sendMsg', 'chatMsg', { chatSessionId: id }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: '' }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: 12 }],
      ['sendMsg', 'chatMsg', { chatSessionId: 5, msg: 'x' }],
      ['sendMsg', 'chatMsg', { msg: 'x' }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: 'x'.repeat(70 * 1024) }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: 'x', metadata: 'meta' }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: 'x', metadata: { big: 'y'.repeat(20 * 1024) } }],
      ['sendMsg', 'chatMsg', { chatSessionId: id, msg: 'x', msgType: 'SYSNOTIF' }],
      ['editMsg', 'msgEdited', { chatSessionId: id, msgId: m.msgId }],
      ['editMsg', 'msgEdited', { chatSessionId: id, msgId: m.msgId, msg: '' }],
      ['removeMsg', 'msgRemoved', { chatSessionId: id }],
      ['setChatDetails', 'chatDetailsSet', { chatSessionId: id }],
      ['setChatDetails', 'chatDetailsSet', { chatSessionId: id, title: ['x'] }],
      ['addMembers', 'membersAdded', { chatSessionId: id, members: ['user-1'] }],
      ['addMembers', 'membersAdded', { chatSessionId: id }],
      ['markMsgRead', 'msgMarkedRead', { chatSessionId: id, messages: ['nope'] }],
      ['markMsgRead', 'msgMarkedRead', { chatSessionId: id, messages: 'x' }],
      ['getChatMessages', 'recentMessages', { chatSessionId: id, offset: -1 }],
      ['getChatMessages', 'recentMessages', { chatSessionId: id, numOfRes: 1.5 }],
      ['getChatMessages', 'recentMessages', { chatSessionId: id, numOfRes: 1e9 }],
      ['getChatSessions', 'recentSessions', { offset: 'a' }],
      ['getChatUsers', 'chatUsers', { usernames: 'user-1' }],
      ['findByProperties', 'searchResults', { criteria: 'x' }],
      ['findByProperties', 'searchResults', { criteria: { textSearch: { components: ['TITLE'] } } }],
      ['findByProperties', 'searchResults', { criteria: { sessionAges: ['OLD'] } }],
      ['findByProperties', 'searchResults', { criteria: { fromDate: 'yesterday' } }],
      ['starSessions', 'sessionsStarred', { chatSessionIds: [id] }],
      ['starSessions', 'sessionsStarred', { chatSessionIds: [], starred: true }],
      ['archiveSessions', 'sessionsArchived', { chatSessionIds: [id], archived: 'yes' }],
      ['setStatus', 'statusChanged', { status: 'ASLEEP' }],
      ['setStatus', 'statusChanged', {}],
      ['sendUserAction', 'userAction', { chatSessionId: id, action: 'DANCING' }],
      ['clientReady', 'userOnline', {}],
    ];
    for (const [event, response, payload] of cases) {
      const env = await request(a, event, payload, response);
      const want = event === 'clientReady' ? 'CONNECTION_ALREADY_OPEN' : 'INVALID_REQUEST';
      failed(env, want, `${event} ${JSON.stringify(payload).slice(0, 120)}`);
    }
    assert.ok(a.connected);
    assert.equal(await countSessions(a), before, 'no session was created');
    const list = ok(await request(a, 'getChatMessages', { chatSessionId: id }, 'recentMessages'));
    assert.deepStrictEqual(list.messages.map((y) => y.content), ['keep me']);
    await noPush(b, 'chatMsg', 100, (e) => e.payload.chatSessionId === id);
    const me = ok(await request(a, 'getChatUsers', { usernames: ['user-2'] }, 'chatUsers')).users[0];
    assert.equal(me.status, 'AVAILABLE');
  });

  test('unknown events: an ack gets INVALID_REQUEST, without one nothing; other sockets are unaffected', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const env = await new Promise((resolve) => a.emit('dropTables', { headers: {}, payload: {} }, resolve));
    assert.equal(env.resultCode, 'INVALID_REQUEST');
    a.emit('noSuchEvent', 'junk');
    await sleep(50);
    assert.ok(a.connected && b.connected);
    ok(await request(a, 'getChatUsers', {}, 'chatUsers'));
    ok(await request(b, 'getChatUsers', {}, 'chatUsers'));
  });
});
