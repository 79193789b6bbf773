package database

/*
#include <stdlib.h>
#include "walbatch.h"
*/
import "C"

import "fmt"

// walBatchVFS is the SQLite VFS every Switchboard database is opened with
// (walbatch.c): the unix-excl VFS, with the frames of one commit written
// to the WAL in one write system call.
//
// unix-excl is the unix VFS with the database the process's own: the
// first lock takes an exclusive lock of the file for the process, and the
// connections of the process then lock each other in memory, with the WAL
// index in the heap. With the unix VFS every transaction took and gave
// back its WAL read and write locks with four fcntl system calls on the
// -shm file, 4% of the server's CPU at 2,000 msgs/s. Nothing else may
// have the database open while Switchboard does: another process (a
// second server on the same file, the sqlite3 shell) gets "database is
// locked" until it is closed.
//
// SQLite writes each frame of a commit as two writes, its 24-byte header
// and then its page: about 8 frames a message at 2,000 msgs/s, 16 pwrite
// system calls, which made the COMMITs 18% of the server's CPU. Held in
// a buffer while they are contiguous, they go out as one write once the
// commit frame's page is written. That is before SQLite publishes the
// commit to readers (the WAL index is written after the frames), so no
// reader can see a frame that is not in the file yet; and an error of that
// write fails the COMMIT as it did before. Anything that reads, sizes,
// syncs or truncates the WAL writes the held frames out first, and so does
// every change of a WAL index (xShmBarrier), in case a commit frame was not
// recognised. A crash loses what a crash in the middle of SQLite's own
// writes lost: the WAL's checksums end the log at the last whole commit.
const walBatchVFS = "switchboard-walbatch"

// walBatchVFSName is walBatchVFS as a C string, registered and kept for
// the process's life: SQLite holds the VFS's name, and connections opened
// from C (walpass.go) name the VFS with it.
var walBatchVFSName *C.char

// registerWALBatch registers the VFS (database.go's init).
func registerWALBatch() {
	walBatchVFSName = C.CString(walBatchVFS)
	if rc := C.sb_walbatch_register(walBatchVFSName); rc != 0 {
		panic(fmt.Sprintf("database: registering SQLite VFS %s: %d", walBatchVFS, int(rc)))
	}
}

// walBatchCounts are the WAL writes the VFS has made (system calls) and
// the writes SQLite asked for that it held, since the process started.
func walBatchCounts() (writes, held int64) {
	var w, h C.longlong
	C.sb_walbatch_counts(&w, &h)
	return int64(w), int64(h)
}

// walBatchSyncs are the syncs of database files and of WAL files the VFS
// has passed on, since the process started.
func walBatchSyncs() (db, wal int64) {
	var d, w C.longlong
	C.sb_walbatch_syncs(&d, &w)
	return int64(d), int64(w)
}

// walBatchHolding says whether a WAL file holds writes not yet in it.
func walBatchHolding() bool {
	return C.sb_walbatch_holding() != 0
}
