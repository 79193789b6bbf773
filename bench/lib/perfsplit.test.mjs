// node --test bench/lib/ — the categories of perfsplit.mjs on hand-made
// call chains, and the counting of `perf script` lines by window.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { categorize, countLines, perMessage } from './perfsplit.mjs';

const BIN = '/tmp/x/switchboard';
const NODE = '/usr/bin/node';
const K = '[kernel.kallsyms]';
const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const chain = (...frames) => frames.map(([sym, dso]) => ({ sym, dso }));

test('kernel samples go by what the call chain was doing', () => {
  assert.equal(categorize(chain(['pvm_irq_enable', K], ['tcp_sendmsg', K], ['internal/poll.(*FD).Write', BIN]), true), 'kernel: network');
  assert.equal(categorize(chain(['copy_folio_from_iter_atomic', K], ['ext4_buffered_write_iter', K], ['__libc_pwrite', LIBC]), true), 'kernel: files');
  assert.equal(categorize(chain(['finish_task_switch', K], ['do_epoll_wait', K], ['runtime.netpoll', BIN]), true), 'kernel: scheduling and wake-ups');
  assert.equal(categorize(chain(['native_write_msr', K]), true), 'kernel: other');
});

test('a Go binary: SQLite, its libc calls, the runtime, the library, Switchboard', () => {
  assert.equal(categorize(chain(['sqlite3VdbeExec', BIN], ['sqlite3_step', BIN]), true), 'SQLite (C, with its libc calls)');
  assert.equal(categorize(chain(['__memcmp_evex_movbe', LIBC]), true), 'SQLite (C, with its libc calls)');
  assert.equal(categorize(chain(['malloc', LIBC], ['sqlite3Malloc', BIN]), true), 'SQLite (C, with its libc calls)');
  assert.equal(categorize(chain(['runtime.mallocgc', BIN], ['encoding/json.Marshal', BIN]), true), 'Go allocation');
  assert.equal(categorize(chain(['runtime.scanobject', BIN], ['runtime.gcDrain', BIN], ['runtime.gcBgMarkWorker', BIN]), true), 'Go GC');
  assert.equal(categorize(chain(['runtime.findRunnable', BIN], ['runtime.schedule', BIN]), true), 'Go scheduler');
  assert.equal(categorize(chain(['runtime.cgocall', BIN]), true), 'cgo and system call transitions');
  assert.equal(categorize(chain(['github.com/mattn/go-sqlite3.(*SQLiteStmt).bind', BIN]), true), 'go-sqlite3 and database code');
  assert.equal(categorize(chain(['github.com/zishang520/socket.io/v3/pkg/types.(*emmiter).Emit', BIN]), true), 'Socket.IO library (zishang520, gorilla)');
  assert.equal(categorize(chain(['encoding/json.(*decodeState).object', BIN]), true), 'JSON (encoding/json)');
  assert.equal(categorize(chain(['github.com/switchboard-chat/switchboard/tickets.(*Service).sendMessage', BIN]), true), 'Switchboard code');
  assert.equal(categorize(chain(['github.com/switchboard-chat/switchboard/database.(*Committer).commit', BIN]), true), 'go-sqlite3 and database code');
});

test('node: V8, its collector, JIT-compiled code, libc', () => {
  assert.equal(categorize(chain(['Builtins_KeyedLoadIC_Megamorphic', NODE]), false), 'V8 builtins and runtime');
  assert.equal(categorize(chain(['v8::internal::Scavenger::ScavengePage', NODE]), false), 'V8 GC');
  assert.equal(categorize(chain(['node::StreamBase::WriteBuffer', NODE]), false), 'node C++ and libuv');
  assert.equal(categorize(chain(['[unknown]', '[unknown]']), false), 'JIT-compiled JavaScript');
  assert.equal(categorize(chain(['__memmove_avx_unaligned_erms', LIBC], ['Builtins_X', NODE]), false), 'libc');
});

test('samples are counted in the window they fell in, and turned into µs a message', async () => {
  const lines = [
    ' 10.500000: ', '\t  1 sqlite3VdbeExec (/tmp/x/switchboard)', '',
    ' 10.700000: ', '\t  2 tcp_sendmsg ([kernel.kallsyms])', '\t  3 internal/poll.(*FD).Write (/tmp/x/switchboard)', '',
    ' 11.200000: ', '\t  4 runtime.mallocgc+0x12 (/tmp/x/switchboard)', '',
    ' 20.000000: ', '\t  5 sqlite3VdbeExec (/tmp/x/switchboard)', '',
  ];
  const counts = await countLines(lines, [{ name: 'closed', from: 10, to: 11 }, { name: 'open', from: 11, to: 12 }], true);
  assert.deepEqual(counts.closed, { samples: 2, byCategory: { 'SQLite (C, with its libc calls)': 1, 'kernel: network': 1 } });
  assert.deepEqual(counts.open, { samples: 1, byCategory: { 'Go allocation': 1 } });
  const p = perMessage(counts.closed, 4, 500); // 2 samples at 500 Hz = 4 ms over 4 messages
  assert.equal(p.total, 1000);
  assert.equal(p.split['kernel: network'], 500);
});
