// A server's CPU split by what it does, per message of each timed phase,
// from `perf record -g -k CLOCK_MONOTONIC` of the server process (run.mjs
// --perf). The load generator reports each phase's window on the same
// clock (process.hrtime), so a sample belongs to the phase it fell in.
//
// Each sample is put in one category from its call chain: the kernel's by
// what the system call or interrupt was doing (the network, files,
// scheduling), user space by the code it was in (SQLite's C code and what it
// called in libc; the Go runtime's collector, allocator and scheduler; the
// Socket.IO library; V8, JIT-compiled JavaScript). The split is what says
// where two servers' costs differ: storage the peer does not do, or socket
// work both do (docs/performance-journal.md, item 62).
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';

/** The categories in the order they are printed. */
export const CATEGORIES = [
  'kernel: network', 'kernel: files', 'kernel: scheduling and wake-ups', 'kernel: interrupts',
  'kernel: memory', 'kernel: other',
  'SQLite (C, with its libc calls)', 'go-sqlite3 and database code', 'cgo and system call transitions',
  'Socket.IO library (zishang520, gorilla)', 'JSON (encoding/json)', 'Switchboard code',
  'Go GC', 'Go allocation', 'Go scheduler', 'Go runtime, other', 'Go standard library, other',
  'V8 builtins and runtime', 'V8 GC', 'JIT-compiled JavaScript', 'node C++ and libuv', 'libc',
  'other',
];

const KERNEL = [
  ['kernel: network', /tcp_|inet_|sock_|skb|__sys_send|__sys_recv|net_rx|ip_finish|__dev_queue|loopback/],
  ['kernel: files', /ext4|filemap|iomap|vfs_fsync|pwrite64|pread64|generic_perform_write|sync_file_range|jbd2|blk_|fdatasync|sys_fsync/],
  ['kernel: scheduling and wake-ups', /epoll|futex|nanosleep|finish_task_switch|schedule|sched_yield|hrtimer/],
  ['kernel: memory', /page_fault|madvise|mmap|munmap|mprotect|brk/],
  ['kernel: interrupts', /interrupt|irq/],
];

const isGo = (sym) => sym.includes('.') || sym.includes('/') || sym.startsWith('_cgo') || sym.startsWith('x_cgo');

function goCategory(sym, chain) {
  if (sym.startsWith('github.com/mattn/go-sqlite3') || sym.startsWith('database/sql')
    || sym.startsWith('github.com/switchboard-chat/switchboard/database')) return 'go-sqlite3 and database code';
  if (sym.startsWith('_cgo') || sym.startsWith('x_cgo') || /^runtime\.(cgocall|asmcgocall|exitsyscall|entersyscall|reentersyscall|cgoCheck)/.test(sym)) {
    return 'cgo and system call transitions';
  }
  if (sym.startsWith('runtime') || sym.startsWith('internal/runtime')) {
    if (chain.includes('runtime.gcBgMarkWorker')) return 'Go GC';
    if (/malloc|newobject|makeslice|growslice|memclr|nextFree|refill|mcache|mcentral|mheap|allocSpan|HeapBits|newarray|makemap|rawstring|rawbyteslice|concatstring|slicebytetostring/.test(sym)) return 'Go allocation';
    if (/scan|mark|sweep|gcDrain|greyobject|findObject|wbBuf|bulkBarrier|gcWork|gcAssist/i.test(sym)) return 'Go GC';
    if (/schedule|findRunnable|park|ready|mcall|gogo|goexit|netpoll|runq|wakep|startm|stopm|notesleep|futex|lock2|unlock2|timer|nanotime|usleep|sysmon|osyield|procyield|casgstatus|execute|preempt|newproc/.test(sym)) return 'Go scheduler';
    return 'Go runtime, other';
  }
  if (sym.includes('zishang520') || sym.includes('gorilla')) return 'Socket.IO library (zishang520, gorilla)';
  if (sym.startsWith('encoding/json')) return 'JSON (encoding/json)';
  if (sym.startsWith('github.com/switchboard-chat')) return 'Switchboard code';
  return 'Go standard library, other';
}

function nodeCategory(sym) {
  if (/v8::internal::(Heap|Scavenger|MarkCompact|Sweeper|ConcurrentMarking|MemoryAllocator|Marking|Evacuat|PagedSpace|NewSpace)/.test(sym)) return 'V8 GC';
  if (sym.startsWith('Builtins_') || sym.startsWith('v8::') || sym.startsWith('Runtime_')) return 'V8 builtins and runtime';
  return 'node C++ and libuv';
}

/**
 * The category of one sample: frames leaf first, each {sym, dso}. In a Go
 * binary (go true) every libc call is SQLite's: the only C code the
 * process runs is SQLite and the database package's C files beside it, and
 * libc has no frame pointers to show the caller.
 */
export function categorize(frames, go) {
  const leaf = frames[0];
  if (leaf.dso.includes('kernel')) {
    const chain = frames.map((f) => f.sym).join(' ');
    for (const [name, re] of KERNEL) if (re.test(chain)) return name;
    return 'kernel: other';
  }
  const user = frames.filter((f) => !f.dso.includes('kernel'));
  const notLibc = user.find((f) => !f.dso.includes('libc.so') && !f.dso.includes('ld-linux'));
  if (!notLibc) return go ? 'SQLite (C, with its libc calls)' : 'libc';
  const dso = notLibc.dso;
  const sym = notLibc.sym;
  if (go) return goUserCategory(leaf, notLibc, user);
  if (dso.endsWith('/node') || dso.includes('libstdc++')) return leaf === notLibc ? nodeCategory(sym) : 'libc';
  if (dso.startsWith('[unknown]') || dso.includes('perf-') || dso.includes('JIT')) {
    return leaf === notLibc ? 'JIT-compiled JavaScript' : 'libc';
  }
  if (dso.includes('[vdso]')) return 'kernel: other';
  return 'other';
}

// In a Go binary, C symbols without a package are SQLite's (and the C files
// of the database package beside it); libc under anything is SQLite's too.
function goUserCategory(leaf, notLibc, user) {
  if (notLibc.dso.includes('[vdso]')) return 'kernel: other';
  if (leaf !== notLibc || !isGo(leaf.sym)) return leaf.sym === '[unknown]' ? 'other' : 'SQLite (C, with its libc calls)';
  return goCategory(leaf.sym, user.map((f) => f.sym).join(' '));
}

/**
 * Read `perf script` of file and count samples per category in each window
 * ({name, from, to} in seconds of CLOCK_MONOTONIC); go: the server is a Go
 * binary. Resolves {[name]: {samples, byCategory: {category: samples}}}.
 */
export async function countByWindow(file, windows, go) {
  const child = spawn('perf', ['script', '-i', file, '-F', 'time,ip,sym,dso'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf script -i ${file} exited ${code}`))));
  });
  const [counts] = await Promise.all([countLines(readline.createInterface({ input: child.stdout }), windows, go), exited]);
  return counts;
}

/**
 * countByWindow's work on the lines of `perf script -F time,ip,sym,dso`
 * (any async iterable of strings): a sample is a line with its time, then
 * one line per frame, leaf first, then a blank line.
 */
export async function countLines(lines, windows, go) {
  const out = Object.fromEntries(windows.map((w) => [w.name, { samples: 0, byCategory: {} }]));
  let t = null;
  let frames = [];
  const flush = () => {
    const w = t !== null && frames.length ? windows.find((x) => t >= x.from && t < x.to) : null;
    if (w) {
      const c = categorize(frames, go);
      out[w.name].samples++;
      out[w.name].byCategory[c] = (out[w.name].byCategory[c] ?? 0) + 1;
    }
    t = null;
    frames = [];
  };
  for await (const line of lines) {
    const head = /^\s*(\d+\.\d+):\s*$/.exec(line);
    const f = head ? null : /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (head) {
      flush();
      t = Number(head[1]);
    } else if (f && t !== null) {
      frames.push({ sym: f[1].replace(/\+0x[0-9a-f]+$/, ''), dso: f[2] });
    } else if (!line.trim()) {
      flush();
    }
  }
  flush();
  return out;
}

/** Microseconds of CPU per message in each category, from the counts of one window. */
export function perMessage(count, messages, frequency) {
  const us = (samples) => (samples / frequency / messages) * 1e6;
  const split = {};
  for (const c of CATEGORIES) if (count.byCategory[c]) split[c] = us(count.byCategory[c]);
  return { total: us(count.samples), split };
}
