//go:build linux && cgo

package sqlite

/*
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "walbatch.h"

// SQLite itself is linked in by github.com/mattn/go-sqlite3; these weak
// declarations let this package's own cgo link step pass without it, and
// walPassesLinked says whether the final binary has them.
typedef struct sqlite3 sqlite3;
extern int sqlite3_open_v2(const char *, sqlite3 **, int, const char *) __attribute__((weak));
extern int sqlite3_close_v2(sqlite3 *) __attribute__((weak));
extern int sqlite3_wal_checkpoint_v2(sqlite3 *, const char *, int, int *, int *) __attribute__((weak));
extern int sqlite3_exec(sqlite3 *, const char *, void *, void *, char **) __attribute__((weak));
extern int sqlite3_file_control(sqlite3 *, const char *, int, void *) __attribute__((weak));

#define SQLITE_FCNTL_FILE_POINTER 7
#define SQLITE_FCNTL_JOURNAL_POINTER 28
#define SQLITE_SYNC_NORMAL 2

typedef struct {
	sqlite3 *db;
	int done_fd;
	int sync; // instead of a checkpoint, sync the files (sb_wal_sync)
	int rc, frames, copied;
} sb_wal_pass;

static int sb_wal_linked(void) {
	return sqlite3_open_v2 && sqlite3_close_v2 && sqlite3_wal_checkpoint_v2 && sqlite3_exec &&
		sqlite3_file_control;
}

// sb_wal_open opens path with the VFS of the server's other connections
// (its files' held writes are flushed as theirs are, walbatch.c) and
// reads it once: a connection that has not read the database yet does not
// know it is in WAL mode, and its checkpoints do nothing.
static int sb_wal_open(const char *path, const char *vfs, sqlite3 **db) {
	int rc = sqlite3_open_v2(path, db, 0x00000002, vfs); // SQLITE_OPEN_READWRITE
	if (rc == 0) {
		rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	}
	return rc;
}

static void sb_wal_close(sqlite3 *db) { sqlite3_close_v2(db); }

// sb_sync_file fsyncs the file of db that op (a SQLITE_FCNTL_*_POINTER)
// names, through its VFS; a file the connection has not opened is left be.
static int sb_sync_file(sqlite3 *db, int op) {
	sqlite3_file *f = NULL;
	int rc = sqlite3_file_control(db, "main", op, &f);
	if (rc == 0 && f != NULL && f->pMethods != NULL) {
		rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	}
	return rc;
}

// sb_wal_sync writes the WAL and the database file to disk, as a pass
// that copies the whole WAL does (checkpoint.go says why ahead of it).
static int sb_wal_sync(sqlite3 *db) {
	int rc = sb_sync_file(db, SQLITE_FCNTL_JOURNAL_POINTER);
	return rc == 0 ? sb_sync_file(db, SQLITE_FCNTL_FILE_POINTER) : rc;
}

static void *sb_wal_run(void *arg) {
	sb_wal_pass *p = arg;
	if (p->sync) {
		p->rc = sb_wal_sync(p->db);
	} else {
		p->rc = sqlite3_wal_checkpoint_v2(p->db, "main", 0, &p->frames, &p->copied); // PASSIVE
	}
	char b = 1;
	while (write(p->done_fd, &b, 1) < 0 && errno == EINTR) {
	}
	return NULL;
}

static int sb_wal_start(sb_wal_pass *p) {
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &a, sb_wal_run, p);
	pthread_attr_destroy(&a);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// walPasses runs the checkpointer's passes on a thread of their own,
// outside Go's scheduler, on a SQLite connection opened in C.
//
// A pass blocks in fsync. Run as a cgo call, it kept its goroutine's P
// while it did, and with one P (a server pinned to one core) every other
// goroutine waited until the runtime's monitor thread took the P back,
// at its next tick: under load, the largest part left of the ack p99
// (docs/performance-journal.md). Here the pass runs on a detached C thread and the goroutine
// waits for its end on a pipe, parked in the netpoller, holding no P.
type walPasses struct {
	mu   sync.Mutex // one pass at a time: they share pass
	db   *C.sqlite3
	pass *C.sb_wal_pass // C memory: the thread may outlive a wait that timed out
	done *os.File       // the pipe's read end; a byte is a pass's end
	wfd  int            // its write end, written by the C thread
	// running is a pass whose end was not read yet (its wait timed out).
	running bool
}

// walPassTimeout bounds the wait for one pass.
const walPassTimeout = 30 * time.Second

// openWALPasses opens dbFile for the passes, with the batching VFS when
// the writer has it.
func openWALPasses(dbFile string, walBatch bool) (*walPasses, error) {
	if C.sb_wal_linked() == 0 {
		return nil, errors.New("database: SQLite is not linked in")
	}
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, err
	}
	path := C.CString(dbFile)
	defer C.free(unsafe.Pointer(path))
	w := &walPasses{done: os.NewFile(uintptr(fds[0]), "wal-pass"), wfd: fds[1]}
	var vfs *C.char // SQLite's default
	if walBatch {
		vfs = walBatchVFSName
	}
	if rc := C.sb_wal_open(path, vfs, &w.db); rc != 0 {
		w.close()
		return nil, fmt.Errorf("database: open %s for checkpoints: SQLite error %d", dbFile, int(rc))
	}
	w.pass = (*C.sb_wal_pass)(C.calloc(1, C.size_t(unsafe.Sizeof(C.sb_wal_pass{}))))
	w.pass.db, w.pass.done_fd = w.db, C.int(w.wfd)
	return w, nil
}

// run runs one PASSIVE pass and waits for it.
func (w *walPasses) run() (walState, error) {
	return w.do(false)
}

// sync writes the WAL and the database file to disk, on a C thread as a
// pass runs, and waits for it.
func (w *walPasses) sync() error {
	_, err := w.do(true)
	return err
}

// do runs a pass, or the sync, on a C thread and waits for its end.
func (w *walPasses) do(sync bool) (walState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running { // an earlier wait timed out: that one ends first
		if err := w.wait(walPassTimeout); err != nil {
			return walState{}, err
		}
		w.running = false
	}
	w.pass.sync = 0
	if sync {
		w.pass.sync = 1
	}
	if rc := C.sb_wal_start(w.pass); rc != 0 {
		return walState{}, fmt.Errorf("database: start a checkpoint thread: %w", syscall.Errno(rc))
	}
	w.running = true
	if err := w.wait(walPassTimeout); err != nil {
		return walState{}, err
	}
	w.running = false
	switch rc := int(w.pass.rc); rc {
	case 0, 5: // SQLITE_OK, or SQLITE_BUSY: another checkpoint ran, as PRAGMA wal_checkpoint reports it
		return walState{frames: int(w.pass.frames), copied: int(w.pass.copied)}, nil
	default:
		return walState{}, fmt.Errorf("database: checkpoint: SQLite error %d", rc)
	}
}

// wait reads the byte the pass's thread writes when it ends.
func (w *walPasses) wait(timeout time.Duration) error {
	if err := w.done.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	var b [1]byte
	_, err := w.done.Read(b[:])
	return err
}

// close waits for a pass still running, then closes the connection.
func (w *walPasses) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running && w.wait(walPassTimeout) != nil {
		return // the thread still has the connection: leave it be
	}
	if w.db != nil {
		C.sb_wal_close(w.db)
	}
	C.free(unsafe.Pointer(w.pass))
	w.done.Close()
	syscall.Close(w.wfd)
}
