//go:build linux && cgo

package sqlite

/*
#include <stdlib.h>
#include "walbatch.h"
*/
import "C"

import "fmt"

// VFS is the SQLite VFS a tuned database is opened with (walbatch.c): the
// unix VFS, with the frames of one commit written to the WAL in one write
// system call.
//
// SQLite writes each frame of a commit as two writes, its 24-byte header
// and then its page, and those writes were a large part of the COMMITs'
// CPU. Held in a buffer while they are contiguous, they go out as one
// write once the commit frame's page is written. That is before SQLite
// publishes the commit to readers (the WAL index is written after the
// frames), so no reader, in this process or another, can see a frame
// that is not in the file yet; and an error of that write fails the
// COMMIT as it did before. Anything that reads, sizes, syncs or truncates
// the WAL writes the held frames out first, and so does every change of a
// WAL index (xShmBarrier), in case a commit frame was not recognised, and
// every release of a WAL lock (xShmLock): frames a rolled-back transaction
// spilled are in the file before another process can take the write lock
// and write where they go. A crash loses what a crash in the middle of
// SQLite's own writes lost: the WAL's checksums end the log at the last
// whole commit.
//
// It depends on two details of SQLite's unix VFS and WAL code: a frame is
// written as its header and then its page (walWriteOneFrame), and the unix
// VFS's seekAndWriteFd masks a write's size to 17 bits (so no write it is
// given is larger than MAX_WRITE in walbatch.c).
const VFS = "switchboard-walbatch"

// walBatchVFSName is VFS as a C string, registered and kept for the
// process's life: SQLite holds the VFS's name, and connections opened
// from C (walpass.go) name the VFS with it.
var walBatchVFSName *C.char

// registerWALBatch registers the VFS (Install).
func registerWALBatch() error {
	walBatchVFSName = C.CString(VFS)
	if rc := C.sb_walbatch_register(walBatchVFSName); rc != 0 {
		return fmt.Errorf("sqlite: registering the SQLite VFS %s: error %d", VFS, int(rc))
	}
	return nil
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

// WALSyncs are the syncs of WAL files the VFS has passed on since the
// process started: what durability tests count.
func WALSyncs() int64 {
	_, wal := walBatchSyncs()
	return wal
}
