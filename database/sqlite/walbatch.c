//go:build linux && cgo

// A SQLite VFS that writes the frames of one commit to the WAL in one
// write system call. See walbatch.go for why and when it is safe.
//
// It wraps the "unix" VFS: every file is that VFS's own file, placed right after a small header of ours,
// and every method is passed through; only a WAL file's writes are held
// in a buffer while they are contiguous, and written out (one pwrite)
// when the commit frame is complete, or before anything that reads,
// sizes, syncs or truncates the file, or when the buffer is full.

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "walbatch.h"

// SQLite is linked in by github.com/mattn/go-sqlite3 (weak, as in
// walpass.go, so that this package's own cgo link step passes).
extern sqlite3_vfs *sqlite3_vfs_find(const char *) __attribute__((weak));
extern int sqlite3_vfs_register(sqlite3_vfs *, int) __attribute__((weak));

#define SQLITE_OK 0
#define SQLITE_NOMEM 7
#define SQLITE_OPEN_WAL 0x00080000
#define SQLITE_SHM_UNLOCK 1
#define WAL_FRAME_HDRSIZE 24
#define MAX_BUFFER (4 << 20)
// The most the unix VFS writes in one call: its seekAndWriteFd masks a
// write's size to 17 bits (a write of 128 KiB would be a write of 0).
#define MAX_WRITE 0x1f000

typedef struct wb_file wb_file;
struct wb_file {
	sqlite3_file base;  // our methods
	sqlite3_file *real; // the unix VFS's file, right after this header
	int wal;            // a WAL file: its writes are held
	// The held writes: len bytes for offset start. Changed under wb_mu (a
	// reader's barrier may flush the writer's file, wb_barrier); len is
	// also read without it (wb_flush).
	char *buf;
	int cap, len;
	sqlite3_int64 start;
	int commit_next; // the next write is a commit frame's page
	// err is the error of a write another thread's barrier made of this
	// file's held writes (wb_barrier): the frames are not in the file, so
	// the transaction that wrote them must not commit. The file's own
	// thread takes it, and fails its next call with it (wb_take_err).
	int err;
	wb_file *next_held; // in wb_held while len > 0
};

static sqlite3_vfs *wb_real;
static sqlite3_vfs wb_vfs;
static pthread_mutex_t wb_mu = PTHREAD_MUTEX_INITIALIZER;
static wb_file *wb_held; // files holding writes; changed under wb_mu, read without it by wb_barrier
static long long wb_writes, wb_held_writes;
static long long wb_syncs[2]; // of database files, of WAL files (atomic)

static wb_file *wb(sqlite3_file *f) { return (wb_file *)f; }

// wb_unlink removes p from wb_held; wb_mu is held.
static void wb_unlink(wb_file *p) {
	for (wb_file **q = &wb_held; *q; q = &(*q)->next_held) {
		if (*q == p) {
			__atomic_store_n(q, p->next_held, __ATOMIC_RELEASE);
			p->next_held = NULL;
			return;
		}
	}
}

// wb_flush_locked writes out p's held writes; wb_mu is held.
static int wb_flush_locked(wb_file *p) {
	if (p->len == 0) {
		return SQLITE_OK;
	}
	int rc = SQLITE_OK;
	for (int done = 0; done < p->len && rc == SQLITE_OK; done += MAX_WRITE) {
		int n = p->len - done < MAX_WRITE ? p->len - done : MAX_WRITE;
		rc = p->real->pMethods->xWrite(p->real, p->buf + done, n, p->start + done);
		wb_writes++;
	}
	__atomic_store_n(&p->len, 0, __ATOMIC_RELEASE);
	p->commit_next = 0;
	wb_unlink(p);
	return rc;
}

// wb_take_err returns, once, the error of a write of p's held writes that
// a barrier on another thread made. SQLite then fails the statement or
// the COMMIT under way and rolls the transaction back: the frames that
// were lost are past the last commit, and the next transaction writes
// over them. Only for WAL files, which are the only ones that hold.
static int wb_take_err(wb_file *p) {
	if (!p->wal || __atomic_load_n(&p->err, __ATOMIC_ACQUIRE) == SQLITE_OK) {
		return SQLITE_OK;
	}
	return __atomic_exchange_n(&p->err, SQLITE_OK, __ATOMIC_ACQ_REL);
}

// wb_flush writes out p's held writes. A file that holds none, which is
// every reader's and the checkpointer's, does not take wb_mu: a thread
// preempted while holding it on a busy core would stall the writer. Only
// p's own thread adds writes to it, so its len seen as 0 here stays 0.
static int wb_flush(wb_file *p) {
	int rc = wb_take_err(p);
	if (rc != SQLITE_OK || !p->wal || __atomic_load_n(&p->len, __ATOMIC_ACQUIRE) == 0) {
		return rc;
	}
	pthread_mutex_lock(&wb_mu);
	rc = wb_flush_locked(p);
	pthread_mutex_unlock(&wb_mu);
	return rc;
}

// wb_reserve makes room in p's buffer for n more bytes; 0 when there is
// no memory for it.
static int wb_reserve(wb_file *p, int n) {
	if (p->len + n <= p->cap) {
		return 1;
	}
	int cap = p->cap ? p->cap : 64 << 10;
	while (cap < p->len + n) {
		cap *= 2;
	}
	char *b = realloc(p->buf, cap);
	if (!b) {
		return 0;
	}
	p->buf = b;
	p->cap = cap;
	return 1;
}

// wb_hold holds one write of a WAL file, or writes out what it holds and
// then this write when the write does not continue them; wb_mu is held.
static int wb_hold(wb_file *p, const void *data, int amt, sqlite3_int64 off) {
	if (p->len > 0 && (off != p->start + p->len || p->len + amt > MAX_BUFFER)) {
		int rc = wb_flush_locked(p);
		if (rc != SQLITE_OK) {
			return rc;
		}
	}
	if (!wb_reserve(p, amt)) {
		// No memory to hold it: write it as SQLite asked, after the rest.
		int rc = wb_flush_locked(p);
		if (rc == SQLITE_OK) {
			rc = p->real->pMethods->xWrite(p->real, data, amt, off);
			wb_writes++;
		}
		return rc;
	}
	if (p->len == 0) {
		p->start = off;
		p->next_held = wb_held;
		__atomic_store_n(&wb_held, p, __ATOMIC_RELEASE);
	}
	memcpy(p->buf + p->len, data, amt);
	__atomic_store_n(&p->len, p->len + amt, __ATOMIC_RELEASE);
	wb_held_writes++;
	if (p->commit_next) {
		// The commit frame's page: the commit is whole. SQLite publishes
		// it to readers (the WAL index) only after this returns, so it is
		// in the file before anyone looks.
		return wb_flush_locked(p);
	}
	const unsigned char *h = data;
	if (amt == WAL_FRAME_HDRSIZE && (h[4] | h[5] | h[6] | h[7])) {
		// A frame header whose "database size after commit" is set: its
		// page comes next (walWriteOneFrame).
		p->commit_next = 1;
	}
	return SQLITE_OK;
}

static int wb_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off) {
	wb_file *p = wb(f);
	if (!p->wal) {
		return p->real->pMethods->xWrite(p->real, data, amt, off);
	}
	int rc = wb_take_err(p);
	if (rc != SQLITE_OK) {
		return rc;
	}
	pthread_mutex_lock(&wb_mu);
	rc = wb_hold(p, data, amt, off);
	pthread_mutex_unlock(&wb_mu);
	return rc;
}

static int wb_close(sqlite3_file *f) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	int rc2 = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
	free(p->buf);
	p->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xRead(p->real, data, amt, off);
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xTruncate(p->real, size);
}

static int wb_sync(sqlite3_file *f, int flags) {
	wb_file *p = wb(f);
	__atomic_add_fetch(&wb_syncs[p->wal != 0], 1, __ATOMIC_RELAXED);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xSync(p->real, flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFileSize(p->real, size);
}

static int wb_lock(sqlite3_file *f, int l) { return wb(f)->real->pMethods->xLock(wb(f)->real, l); }
static int wb_unlock(sqlite3_file *f, int l) { return wb(f)->real->pMethods->xUnlock(wb(f)->real, l); }
static int wb_check_reserved(sqlite3_file *f, int *out) {
	return wb(f)->real->pMethods->xCheckReservedLock(wb(f)->real, out);
}
static int wb_file_control(sqlite3_file *f, int op, void *arg) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFileControl(p->real, op, arg);
}
static int wb_sector_size(sqlite3_file *f) { return wb(f)->real->pMethods->xSectorSize(wb(f)->real); }
static int wb_device_characteristics(sqlite3_file *f) {
	return wb(f)->real->pMethods->xDeviceCharacteristics(wb(f)->real);
}
static int wb_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp) {
	return wb(f)->real->pMethods->xShmMap(wb(f)->real, pg, pgsz, extend, pp);
}
static void wb_flush_all(void);

// wb_shm_lock writes out every held write before a WAL lock is released:
// the write lock's release lets another process write to the WAL, where
// frames this one still held (pages a transaction spilled, then rolled
// back) would land over its frames once written out.
static int wb_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
	if ((flags & SQLITE_SHM_UNLOCK) && __atomic_load_n(&wb_held, __ATOMIC_ACQUIRE) != NULL) {
		wb_flush_all();
	}
	return wb(f)->real->pMethods->xShmLock(wb(f)->real, offset, n, flags);
}

// wb_barrier is called on a database file when its WAL index changes
// (walIndexWriteHdr, before readers can see new frames): a last guard
// that no WAL write is still held then, had a commit frame gone unseen.
// Nothing held (the rule: the writer's commit frame flushed it) takes no
// lock; the barrier that matters is the writer's own, on the thread that
// held the writes.
//
// Held writes are also found here when a reader begins a transaction
// while the writer is in the middle of one that spilled pages to the WAL
// (every reader's begin passes a barrier, walIndexTryHdr). The barrier
// cannot fail, so the error of that write is kept on the file whose
// writes were lost, and its own next call fails with it: that fails the
// writer's transaction, so no commit is acknowledged over frames that
// never reached the file.
static void wb_barrier(sqlite3_file *f) {
	if (__atomic_load_n(&wb_held, __ATOMIC_ACQUIRE) != NULL) {
		wb_flush_all();
	}
	wb(f)->real->pMethods->xShmBarrier(wb(f)->real);
}

// wb_flush_all writes out every file's held writes. A write that fails is
// kept on its file, whose own next call fails with it (wb_barrier).
static void wb_flush_all(void) {
	pthread_mutex_lock(&wb_mu);
	while (wb_held) {
		wb_file *p = wb_held;
		int rc = wb_flush_locked(p);
		if (rc != SQLITE_OK) {
			__atomic_store_n(&p->err, rc, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&wb_mu);
}
static int wb_shm_unmap(sqlite3_file *f, int del) { return wb(f)->real->pMethods->xShmUnmap(wb(f)->real, del); }
static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
	wb_file *p = wb(f);
	int rc = wb_flush(p);
	return rc != SQLITE_OK ? rc : p->real->pMethods->xFetch(p->real, off, amt, pp);
}
static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr) {
	return wb(f)->real->pMethods->xUnfetch(wb(f)->real, off, ptr);
}

static const sqlite3_io_methods wb_methods = {
    3,           wb_close,        wb_read,       wb_write,         wb_truncate,   wb_sync,
    wb_file_size, wb_lock,        wb_unlock,     wb_check_reserved, wb_file_control,
    wb_sector_size, wb_device_characteristics, wb_shm_map, wb_shm_lock, wb_barrier,
    wb_shm_unmap, wb_fetch,       wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
	wb_file *p = wb(f);
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)&p[1];
	int rc = wb_real->xOpen(wb_real, name, p->real, flags, out_flags);
	if (p->real->pMethods == NULL) {
		return rc; // not opened: SQLite calls no method of it
	}
	if (p->real->pMethods->iVersion < 3) {
		// Not the unix VFS's files (version 3): refuse rather than pass
		// methods it lacks.
		p->real->pMethods->xClose(p->real);
		return rc == SQLITE_OK ? 1 /* SQLITE_ERROR */ : rc;
	}
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	p->base.pMethods = &wb_methods;
	return rc;
}

int sb_walbatch_register(const char *name) {
	if (!sqlite3_vfs_find || !sqlite3_vfs_register) {
		return -1;
	}
	if (sqlite3_vfs_find(name)) {
		return SQLITE_OK;
	}
	wb_real = sqlite3_vfs_find("unix");
	if (!wb_real) {
		return -2;
	}
	// A copy of the unix VFS (its methods read its pAppData and
	// mxPathname, which the copy keeps) with our files around its own.
	wb_vfs = *wb_real;
	wb_vfs.zName = name;
	wb_vfs.szOsFile = (int)sizeof(wb_file) + wb_real->szOsFile;
	wb_vfs.xOpen = wb_open;
	wb_vfs.pNext = NULL;
	return sqlite3_vfs_register(&wb_vfs, 0);
}

void sb_walbatch_counts(long long *writes, long long *held) {
	pthread_mutex_lock(&wb_mu);
	*writes = wb_writes;
	*held = wb_held_writes;
	pthread_mutex_unlock(&wb_mu);
}

int sb_walbatch_holding(void) { return __atomic_load_n(&wb_held, __ATOMIC_ACQUIRE) != NULL; }

void sb_walbatch_syncs(long long *db, long long *wal) {
	*db = __atomic_load_n(&wb_syncs[0], __ATOMIC_RELAXED);
	*wal = __atomic_load_n(&wb_syncs[1], __ATOMIC_RELAXED);
}
