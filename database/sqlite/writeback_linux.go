//go:build linux && cgo

package sqlite

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing back the
// range's dirty pages, wait for nothing.
const syncFileRangeWrite = 2

// startWriteback starts the writeback of every dirty page of f.
func startWriteback(f *os.File) error {
	return syscall.SyncFileRange(int(f.Fd()), 0, 0, syncFileRangeWrite)
}
