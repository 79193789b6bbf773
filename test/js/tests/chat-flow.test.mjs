// The chat protocol (spec/chat.md) as its users drive it: the handshake,
// every client event with its response event and the pushes to the other
// members, read state, stars and archive, search, status and presence.
// Every response is checked through the {headers, payload, resultCode}
// envelope and the payload classes of the source document.
import { strict as assert } from 'node:assert';
import { describe, test, afterEach } from 'node:test';

import { setupSuite } from '../lib/harness.mjs';
import { tokenFor } from '../lib/tokens.mjs';
import { sleep } from '../lib/server.mjs';
import {
  asChatUser, connectChat, closeChatSockets, request, requestRaw, nextPush, noPush, ok, failed,
  createChat, sendMsg, assertUser, assertMsg, assertSession, memberNames, ISO_MS, UUID,
} from '../lib/chat.mjs';

// The general chat model (everyone in a tenant sees everyone); the default
// directory policy is held by the Go tests (chat/directory_test.go).
setupSuite({ env: { SWITCHBOARD_OIDC_TENANT_CLAIM: 'tenant', SWITCHBOARD_CHAT_DIRECTORY: 'tenant' } });
afterEach(() => closeChatSockets());

const about = (id) => (env) => env?.payload?.chatSessionId === id || env?.payload?.session?.chatSessionId === id;

async function sessions(socket, payload = {}) {
  return ok(await request(socket, 'getChatSessions', { numOfRes: 500, ...payload }, 'recentSessions'), 'getChatSessions');
}

async function messages(socket, chatSessionId, payload = {}) {
  return ok(await request(socket, 'getChatMessages', { chatSessionId, ...payload }, 'recentMessages'), 'getChatMessages');
}

describe('handshake', () => {
  test('serverReady → clientReady {username, tokenId} → userOnline with the user details', async () => {
    const { socket, serverReady } = await connectChat();
    assert.deepStrictEqual(serverReady.headers, {});
    assert.equal(serverReady.resultCode, 'OK');
    assert.equal(typeof serverReady.payload.version, 'string');
    const env = await request(socket, 'clientReady', { username: 'user-1', tokenId: await tokenFor('user-1'), clientId: 'acme' }, 'userOnline');
    const me = ok(env, 'userOnline');
    assertUser(me, { clientId: 'acme', username: 'user-1', fullName: 'User One', online: true, status: 'AVAILABLE' });
  });

  test('clientId and username may be omitted: the token says who and which tenant', async () => {
    const { socket } = await connectChat();
    const me = ok(await request(socket, 'clientReady', { tokenId: await tokenFor('user-2') }, 'userOnline'));
    assertUser(me, { clientId: 'acme', username: 'user-2', fullName: 'User Two', online: true });
  });

  test('a second clientReady on the same socket is CONNECTION_ALREADY_OPEN; the socket keeps working', async () => {
    const s = await asChatUser('user-1');
    failed(await request(s, 'clientReady', { username: 'user-1', tokenId: await tokenFor('user-1') }, 'userOnline'), 'CONNECTION_ALREADY_OPEN');
    assert.ok(s.connected);
    ok(await request(s, 'getChatSessions', {}, 'recentSessions'));
  });

  test('several sockets of one user are normal (tabs, devices)', async () => {
    const a = await asChatUser('user-3');
    const b = await asChatUser('user-3');
    assert.ok(a.connected && b.connected);
  });

  test('polling transport works too', async () => {
    const { socket } = await connectChat({ transports: ['polling'] });
    ok(await request(socket, 'clientReady', { username: 'user-1', tokenId: await tokenFor('user-1') }, 'userOnline'));
    ok(await request(socket, 'getChatUsers', {}, 'chatUsers'));
  });

  test('Engine.IO 4 at /api/chatserver/socket.io/', async () => {
    const { currentServer } = await import('../lib/server.mjs');
    const res = await fetch(`${currentServer().url}/api/chatserver/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(text[0], '0');
    assert.equal(JSON.parse(text.slice(1)).pingInterval, 25000);
  });
});

describe('sessions', () => {
  test('createChat ONETOONE: chatCreated to the creator, pushed to the other member and the creator\'s other sockets', async () => {
    const a = await asChatUser('user-1');
    const a2 = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const c = await createChat(a, ['user-2'], { title: 'Lunch', desc: 'Where?' });
    assertSession(c, { title: 'Lunch', desc: 'Where?', sessionType: 'ONETOONE', creator: 'user-1', clientId: 'acme' });
    assert.match(c.chatSessionId, UUID, 'session ids are server UUIDs');
    assert.deepStrictEqual(memberNames(c), ['user-1', 'user-2']);
    assert.equal(c.username, 'user-1');
    assert.equal(c.starred, false);
    assert.equal(c.archived, false);
    const pb = (await nextPush(b, 'chatCreated', about(c.chatSessionId))).payload;
    assert.equal(pb.username, 'user-2', 'each member hears it with its own username');
    assert.deepStrictEqual(memberNames(pb), ['user-1', 'user-2']);
    await nextPush(a2, 'chatCreated', about(c.chatSessionId));
    await noPush(a, 'chatCreated', 200, about(c.chatSessionId));
    // The session is in both members' lists.
    for (const s of [a, b]) {
      const list = await sessions(s);
      const found = list.sessions.find((x) => x.chatSessionId === c.chatSessionId);
      assert.ok(found, `${s.who} lists the session`);
      assertSession(found, { title: 'Lunch', sessionType: 'ONETOONE' });
      assert.equal(found.count, 0);
      assert.equal(found.unreadCount, 0);
      assert.deepStrictEqual(found.messages, []);
    }
  });

  test('createChat ONETOMANY, setChatDetails, addMembers and leaveChat with their pushes and SYSNOTIF messages', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const op = await asChatUser('operator-1');
    const c = await createChat(a, ['user-2'], { sesType: 'ONETOMANY', title: 'Team' });
    assert.equal(c.sessionType, 'ONETOMANY');
    const id = c.chatSessionId;
    await nextPush(b, 'chatCreated', about(id));

    const set = ok(await request(a, 'setChatDetails', { chatSessionId: id, title: 'Team 2' }, 'chatDetailsSet'));
    assert.deepStrictEqual(set, { chatSessionId: id, title: 'Team 2', desc: '' });
    assert.deepStrictEqual((await nextPush(b, 'chatDetailsSet', about(id))).payload, set);
    const note = (await nextPush(b, 'chatMsg', about(id))).payload;
    assertMsg(note, { msgType: 'SYSNOTIF', sender: 'user-1', chatSessionId: id });
    assert.match(note.content, /Team 2/);

    const added = ok(await request(a, 'addMembers', { chatSessionId: id, members: ['operator-1'] }, 'membersAdded'));
    assertSession(added.session, { chatSessionId: id, title: 'Team 2' });
    assert.deepStrictEqual(memberNames(added.session), ['operator-1', 'user-1', 'user-2']);
    for (const s of [b, op]) {
      const p = (await nextPush(s, 'membersAdded', about(id))).payload;
      assert.deepStrictEqual(memberNames(p.session), ['operator-1', 'user-1', 'user-2']);
      assertMsg((await nextPush(s, 'chatMsg', (e) => e.payload.chatSessionId === id && e.payload.msgType === 'SYSNOTIF' && /operator-1/.test(e.payload.content))).payload);
    }

    const left = ok(await request(b, 'leaveChat', { chatSessionId: id }, 'chatLeft'));
    assert.deepStrictEqual(memberNames(left.session), ['operator-1', 'user-1']);
    assertUser(left.session.userThatLeftForLast, { username: 'user-2' });
    for (const s of [a, op]) {
      const p = (await nextPush(s, 'chatLeft', about(id))).payload;
      assert.equal(p.session.userThatLeftForLast.username, 'user-2');
    }
    failed(await request(b, 'getChatMessages', { chatSessionId: id }, 'recentMessages'), 'NOT_MEMBER_OF_CHAT');
    assert.ok(!(await sessions(b)).sessions.some((x) => x.chatSessionId === id), 'gone from the leaver\'s list');
    const mine = (await sessions(a)).sessions.find((x) => x.chatSessionId === id);
    assert.equal(mine.userThatLeftForLast.username, 'user-2');
    assert.equal(mine.title, 'Team 2');
  });

  test('starSessions and archiveSessions: the lists follow, the user\'s other sockets hear it', async () => {
    const a = await asChatUser('user-1');
    const a2 = await asChatUser('user-1');
    const { chatSessionId: id } = await createChat(a, ['user-3']);
    await nextPush(a2, 'chatCreated', about(id));
    const star = ok(await request(a, 'starSessions', { chatSessionIds: [id], starred: true }, 'sessionsStarred'));
    assert.deepStrictEqual(star, { clientId: 'acme', username: 'user-1', chatSessionIds: [id], starred: true });
    assert.deepStrictEqual((await nextPush(a2, 'sessionsStarred')).payload, star);
    assert.equal((await sessions(a)).sessions.find((x) => x.chatSessionId === id).starred, true);

    const arch = ok(await request(a, 'archiveSessions', { chatSessionIds: [id], archived: true }, 'sessionsArchived'));
    assert.equal(arch.archived, true);
    assert.deepStrictEqual(arch.chatSessionIds, [id]);
    await nextPush(a2, 'sessionsArchived');
    assert.ok(!(await sessions(a)).sessions.some((x) => x.chatSessionId === id), 'archived: not recent');
    const archived = ok(await request(a, 'getArchivedSessions', { numOfRes: 500 }, 'archivedSessions'));
    const found = archived.sessions.find((x) => x.chatSessionId === id);
    assert.ok(found, 'in the archived list');
    assert.equal(found.archived, true);
    assert.equal(archived.count, archived.sessions.length);
    // Only for the user who archived it.
    const other = await asChatUser('user-3');
    assert.ok((await sessions(other)).sessions.some((x) => x.chatSessionId === id));

    ok(await request(a, 'archiveSessions', { chatSessionIds: [id], archived: false }, 'sessionsArchived'));
    assert.ok((await sessions(a)).sessions.some((x) => x.chatSessionId === id), 'back in the recent list');
  });

  test('paging: offset and numOfRes, offsetMsg and numOfResMsg; count is every session', async () => {
    const a = await asChatUser('operator-2');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const { chatSessionId } = await createChat(a, ['user-1'], { sesType: 'ONETOMANY', title: `page ${i}` });
      ids.push(chatSessionId);
      for (let j = 0; j < 3; j++) await sendMsg(a, chatSessionId, `m${i}.${j}`);
    }
    const all = await sessions(a);
    const page = ok(await request(a, 'getChatSessions', { offset: 1, numOfRes: 1, offsetMsg: 1, numOfResMsg: 2 }, 'recentSessions'));
    assert.equal(page.count, all.count);
    assert.equal(page.sessions.length, 1);
    assert.equal(page.sessions[0].chatSessionId, all.sessions[1].chatSessionId, 'most recently updated first');
    assert.equal(page.sessions[0].chatSessionId, ids[1]);
    assert.deepStrictEqual(page.sessions[0].messages.map((m) => m.content), ['m1.1', 'm1.0'], 'newest first, after offsetMsg');
    assert.equal(page.sessions[0].count, 3);
  });
});

describe('messages', () => {
  test('sendMsg: chatMsg to the sender, pushed to the members; metadata relayed; getChatMessages newest first', async () => {
    const a = await asChatUser('user-1');
    const a2 = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['user-2']);
    const meta = { CLASS: 'CONTENT', ACTION: 'SHARED', content: { contentId: 'c-1', thumbnails: ['//x/1.png'] } };
    const m = await sendMsg(a, id, 'hello there', { msgType: 'USER', metadata: meta });
    assertMsg(m, { clientId: 'acme', chatSessionId: id, content: 'hello there', msgType: 'USER', sender: 'user-1', read: true, status: null });
    assert.match(m.msgId, UUID);
    assert.deepStrictEqual(m.chatMetadata, meta);
    const pb = (await nextPush(b, 'chatMsg', about(id))).payload;
    assertMsg(pb, { msgId: m.msgId, content: 'hello there', read: false, read_ts: '', sender: 'user-1' });
    assert.deepStrictEqual(pb.chatMetadata, meta);
    assert.equal((await nextPush(a2, 'chatMsg', about(id))).payload.read, true, 'the sender\'s other socket: its own message is read');
    await noPush(a, 'chatMsg', 200, about(id));

    const m2 = await sendMsg(b, id, 'hi back');
    await nextPush(a, 'chatMsg', (e) => e.payload.msgId === m2.msgId);
    const list = await messages(a, id);
    assert.equal(list.chatSessionId, id);
    assert.equal(list.count, 2);
    assert.deepStrictEqual(list.messages.map((x) => x.content), ['hi back', 'hello there']);
    const d = list.messages[0];
    for (const k of ['chatMsgId', 'chatSessionId', 'sender', 'sent_ts', 'read', 'read_ts', 'content', 'msgType']) assert.ok(k in d, `MChatMessageDetails.${k}`);
    assert.match(d.sent_ts, ISO_MS);
    assert.equal(d.read, false, 'user-1 has not read user-2\'s message');
    assert.equal(list.messages[1].read, true);
    const one = await messages(a, id, { offset: 1, numOfRes: 1 });
    assert.equal(one.count, 2);
    assert.deepStrictEqual(one.messages.map((x) => x.chatMsgId), [m.msgId]);
  });

  test('editMsg and removeMsg by the sender: msgEdited and msgRemoved to the members', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['user-2']);
    const m = await sendMsg(a, id, 'helo');
    await nextPush(b, 'chatMsg', about(id));
    const e = ok(await request(a, 'editMsg', { chatSessionId: id, msgId: m.msgId, msg: 'hello' }, 'msgEdited'));
    assertMsg(e, { msgId: m.msgId, content: 'hello', status: 'EDITED' });
    assertMsg((await nextPush(b, 'msgEdited', about(id))).payload, { msgId: m.msgId, content: 'hello' });
    assert.equal((await messages(b, id)).messages[0].content, 'hello');

    const r = ok(await request(a, 'removeMsg', { chatSessionId: id, msgId: m.msgId }, 'msgRemoved'));
    assertMsg(r, { msgId: m.msgId, status: 'REMOVED', content: '' });
    assertMsg((await nextPush(b, 'msgRemoved', about(id))).payload, { msgId: m.msgId, status: 'REMOVED' });
    const after = await messages(b, id);
    assert.equal(after.count, 0);
    assert.deepStrictEqual(after.messages, []);
    failed(await request(a, 'editMsg', { chatSessionId: id, msgId: m.msgId, msg: 'again' }, 'msgEdited'), 'MSG_NOT_FOUND');
  });

  test('markMsgRead: msgMarkedRead with msgCount and unreadCount; the sender gets a read receipt', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['user-2']);
    const m1 = await sendMsg(a, id, 'one');
    const m2 = await sendMsg(a, id, 'two');
    const unread = (await sessions(b)).sessions.find((x) => x.chatSessionId === id);
    assert.equal(unread.unreadCount, 2);
    assert.equal(unread.count, 2);

    const r = ok(await request(b, 'markMsgRead', { chatSessionId: id, messages: [m1.msgId] }, 'msgMarkedRead'));
    assert.equal(r.chatSessionId, id);
    assert.equal(r.msgCount, 1);
    assert.equal(r.unreadCount, 1);
    const receipt = (await nextPush(a, 'msgMarkedRead', about(id))).payload;
    assert.deepStrictEqual(receipt.messages, [m1.msgId]);
    assert.equal(receipt.username, 'user-2');
    assert.equal(receipt.msgCount, 1);
    // Again: nothing new.
    assert.equal(ok(await request(b, 'markMsgRead', { chatSessionId: id, messages: [m1.msgId] }, 'msgMarkedRead')).msgCount, 0);
    const list = await messages(b, id);
    const read = list.messages.find((x) => x.chatMsgId === m1.msgId);
    assert.equal(read.read, true);
    assert.match(read.read_ts, ISO_MS);
    assert.equal(list.messages.find((x) => x.chatMsgId === m2.msgId).read, false);
  });

  test('markSessionRead and markAllSessionsRead: the user\'s other sockets hear it; unread counts drop to 0', async () => {
    const a = await asChatUser('operator-3');
    const b = await asChatUser('user-3');
    const b2 = await asChatUser('user-3');
    const { chatSessionId: s1 } = await createChat(a, ['user-3']);
    const { chatSessionId: s2 } = await createChat(a, ['user-3'], { sesType: 'ONETOMANY' });
    await sendMsg(a, s1, 'x');
    await sendMsg(a, s2, 'y');
    await sendMsg(a, s2, 'z');
    const r = ok(await request(b, 'markSessionRead', { chatSessionId: s1 }, 'sessionMarkedRead'));
    assert.deepStrictEqual(r, { chatSessionId: s1 });
    assert.deepStrictEqual((await nextPush(b2, 'sessionMarkedRead')).payload, r);
    let list = await sessions(b);
    assert.equal(list.sessions.find((x) => x.chatSessionId === s1).unreadCount, 0);
    assert.equal(list.sessions.find((x) => x.chatSessionId === s2).unreadCount, 2);

    const all = ok(await request(b, 'markAllSessionsRead', {}, 'allSessionsMarkedRead'));
    assert.ok(all.chatSessionIds.includes(s2));
    assert.ok(!all.chatSessionIds.includes(s1), 'only sessions that had unread messages');
    assert.deepStrictEqual((await nextPush(b2, 'allSessionsMarkedRead')).payload, all);
    list = await sessions(b);
    assert.ok(list.sessions.every((x) => x.unreadCount === 0));
  });

  test('sendUserAction: userAction to the sender and the other members; TYPING throttled, STOPPED_TYPING always', async () => {
    const a = await asChatUser('user-1');
    const b = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['user-2']);
    const r = ok(await request(a, 'sendUserAction', { chatSessionId: id, action: 'TYPING' }, 'userAction'));
    assert.equal(r.username, 'user-1');
    assert.equal(r.chatSessionId, id);
    assert.equal(r.action, 'TYPING');
    assert.match(r.ts, ISO_MS);
    assert.equal((await nextPush(b, 'userAction', about(id))).payload.action, 'TYPING');
    ok(await request(a, 'sendUserAction', { chatSessionId: id, action: 'TYPING' }, 'userAction'));
    await noPush(b, 'userAction', 250, about(id));
    ok(await request(a, 'sendUserAction', { chatSessionId: id, action: 'STOPPED_TYPING' }, 'userAction'));
    assert.equal((await nextPush(b, 'userAction', about(id))).payload.action, 'STOPPED_TYPING');
  });
});

describe('users, search, status and presence', () => {
  test('getChatUsers: every user of the clientId, counted; a usernames filter; online flags', async () => {
    const a = await asChatUser('user-1');
    await asChatUser('user-2');
    const all = ok(await request(a, 'getChatUsers', { numOfRes: 500 }, 'chatUsers'));
    assert.equal(all.clientId, 'acme');
    assert.equal(all.username, 'user-1');
    assert.equal(all.count, all.users.length);
    all.users.forEach((u) => assertUser(u, { clientId: 'acme' }));
    assert.ok(!all.users.some((u) => u.username.startsWith('beta-')), 'no user of another tenant');
    const two = ok(await request(a, 'getChatUsers', { usernames: ['user-2', 'operator-1', 'nobody'] }, 'chatUsers'));
    assert.equal(two.count, all.count, 'count is every user of the clientId');
    assert.deepStrictEqual(two.users.map((u) => u.username).sort(), ['operator-1', 'user-2'].filter((n) => all.users.some((u) => u.username === n)));
    assert.equal(two.users.find((u) => u.username === 'user-2').online, true);
    const paged = ok(await request(a, 'getChatUsers', { offset: 1, numOfRes: 1 }, 'chatUsers'));
    assert.equal(paged.users.length, 1);
    assert.equal(paged.users[0].username, all.users[1].username);
  });

  test('getAggregatedUsersSessions: recent sessions and the users sharing them', async () => {
    const a = await asChatUser('user-2');
    const { chatSessionId: id } = await createChat(a, ['operator-2'], { title: 'agg' });
    const r = ok(await request(a, 'getAggregatedUsersSessions', { numOfRes: 500, numOfResMsg: 1, numOfResUsers: 500 }, 'aggregatedUsersSessions'));
    assert.equal(r.clientId, 'acme');
    assert.equal(r.username, 'user-2');
    assert.ok(r.sessions.sessions.some((s) => s.chatSessionId === id));
    assert.equal(r.sessions.count, r.sessions.sessions.length);
    assert.ok(r.users.users.some((u) => u.username === 'operator-2'));
    assert.ok(!r.users.users.some((u) => u.username === 'user-2'), 'not the user itself');
    assert.equal(r.users.count, r.users.users.length);
  });

  test('findByProperties: title, member names, message bodies, filters', async () => {
    const a = await asChatUser('user-1');
    const { chatSessionId: t } = await createChat(a, ['user-2'], { sesType: 'ONETOMANY', title: 'Zebra Project' });
    const { chatSessionId: m } = await createChat(a, ['operator-1'], { sesType: 'ONETOMANY', title: 'misc' });
    await sendMsg(a, m, 'the quokka report is ready');
    const find = async (criteria, extra = {}) => ok(await request(a, 'findByProperties', { criteria, numOfRes: 500, numOfResMsg: 5, ...extra }, 'searchResults'), 'findByProperties');
    let r = await find({ textSearch: { searchKey: 'zebra', components: ['SESSION_TITLE'] } });
    assert.deepStrictEqual(r.sessions.map((s) => s.chatSessionId), [t]);
    assert.equal(r.count, 1);
    r = await find({ textSearch: { searchKey: 'QUOKKA' } });
    assert.deepStrictEqual(r.sessions.map((s) => s.chatSessionId), [m]);
    assert.ok(r.sessions[0].messages.some((x) => /quokka/.test(x.content)));
    r = await find({ textSearch: { searchKey: 'quokka', components: ['SESSION_TITLE'] } });
    assert.equal(r.count, 0);
    r = await find({ textSearch: { searchKey: 'Operator One', components: ['MEMBERS_DISPLAY_NAME'] } });
    assert.ok(r.sessions.some((s) => s.chatSessionId === m));
    assert.ok(!r.sessions.some((s) => s.chatSessionId === t));
    r = await find({ textSearch: { searchKey: 'operator-1', components: ['MEMBERS_USERNAME'] }, sessionIds: [m, t] });
    assert.deepStrictEqual(r.sessions.map((s) => s.chatSessionId), [m]);
    r = await find({ sessionIds: [t], sessionAges: ['RECENT'], textSearch: { sesTypes: ['ONETOMANY'] } });
    assert.deepStrictEqual(r.sessions.map((s) => s.chatSessionId), [t]);
    r = await find({ sessionIds: [t], sessionAges: ['ARCHIVED'] });
    assert.equal(r.count, 0);
  });

  test('setStatus: statusChanged to the user and to users sharing a session; INVISIBLE looks offline', async () => {
    const a = await asChatUser('operator-3');
    const a2 = await asChatUser('operator-3');
    const b = await asChatUser('user-2');
    await createChat(a, ['user-2']);
    const busy = ok(await request(a, 'setStatus', { status: 'BUSY', statusMsg: 'in a call' }, 'statusChanged'));
    assertUser(busy, { username: 'operator-3', status: 'BUSY', statusMsg: 'in a call', online: true });
    assertUser((await nextPush(a2, 'statusChanged')).payload, { status: 'BUSY' });
    assertUser((await nextPush(b, 'statusChanged', (e) => e.payload.username === 'operator-3')).payload, { status: 'BUSY', statusMsg: 'in a call', online: true });

    const inv = ok(await request(a, 'setStatus', { status: 'INVISIBLE' }, 'statusChanged'));
    assertUser(inv, { status: 'INVISIBLE', online: true });
    assert.deepStrictEqual((await nextPush(b, 'userDisconnected', (e) => e.payload.username === 'operator-3')).payload, { clientId: 'acme', username: 'operator-3' });
    const seen = ok(await request(b, 'getChatUsers', { usernames: ['operator-3'] }, 'chatUsers')).users[0];
    assertUser(seen, { online: false, status: 'AVAILABLE' });
    const self = ok(await request(a, 'getChatUsers', { usernames: ['operator-3'] }, 'chatUsers')).users[0];
    assertUser(self, { online: true, status: 'INVISIBLE' });

    ok(await request(a, 'setStatus', { status: 'AVAILABLE' }, 'statusChanged'));
    assertUser((await nextPush(b, 'userOnline', (e) => e.payload.username === 'operator-3')).payload, { online: true, status: 'AVAILABLE' });
  });

  test('presence: userOnline when a user sharing a session comes online, userDisconnected when its last socket goes', async () => {
    const a = await asChatUser('user-3');
    const other = await asChatUser('operator-1');
    await createChat(a, ['operator-1']);
    other.close();
    await nextPush(a, 'userDisconnected', (e) => e.payload.username === 'operator-1');
    const o1 = await asChatUser('operator-1');
    assertUser((await nextPush(a, 'userOnline', (e) => e.payload.username === 'operator-1')).payload, { username: 'operator-1', online: true });
    const o2 = await asChatUser('operator-1');
    await noPush(a, 'userOnline', 200, (e) => e.payload.username === 'operator-1');
    o1.close();
    await noPush(a, 'userDisconnected', 300, (e) => e.payload.username === 'operator-1');
    o2.close();
    const gone = (await nextPush(a, 'userDisconnected', (e) => e.payload.username === 'operator-1')).payload;
    assert.deepStrictEqual(gone, { clientId: 'acme', username: 'operator-1' });
    await sleep(50);
    const u = ok(await request(a, 'getChatUsers', { usernames: ['operator-1'] }, 'chatUsers')).users[0];
    assertUser(u, { online: false });
    assert.match(u.lastSeen, ISO_MS);
  });

  test('responses also answer a Socket.IO ack with the same envelope', async () => {
    const a = await asChatUser('user-1');
    const env = await requestRaw(a, 'getChatUsers', [{ headers: {}, payload: { usernames: ['user-1'] } }], 'chatUsers');
    assert.equal(env.resultCode, 'OK');
  });
});
