//go:build linux && cgo

package sqlite

/*
// SQLite is linked in by github.com/mattn/go-sqlite3 (weak, as in
// walpass.go, so that this package's own cgo link step passes).
extern int sqlite3_config(int, ...) __attribute__((weak));
extern int sqlite3_status64(int, long long *, long long *, int) __attribute__((weak));

static int sb_memstatus_off(void) {
	if (!sqlite3_config) {
		return -1;
	}
	return sqlite3_config(9, 0); // SQLITE_CONFIG_MEMSTATUS
}

static long long sb_memory_used(void) {
	long long cur = 0, high = 0;
	if (!sqlite3_status64) {
		return -1;
	}
	sqlite3_status64(0, &cur, &high, 0); // SQLITE_STATUS_MEMORY_USED
	return cur;
}
*/
import "C"

import "fmt"

// turnOffMemoryStatistics stops SQLite counting the memory it allocates.
// It must run before SQLite initializes, as installPageCache.
//
// Why: with the statistics on (the default), every sqlite3_malloc and
// sqlite3_free takes a process-wide mutex to keep the count, and SQLite
// allocates and frees many times a statement: those mutexes showed in the
// server's profile. Switchboard reads no SQLite memory
// statistic and sets no soft heap limit, the two things that need them.
func turnOffMemoryStatistics() error {
	if rc := C.sb_memstatus_off(); rc != 0 {
		return fmt.Errorf("sqlite: turning off SQLite's memory statistics: SQLite error %d (SQLite was initialized before)", int(rc))
	}
	return nil
}

// sqliteMemoryUsed is SQLite's count of the memory it has allocated: 0
// with the statistics off.
func sqliteMemoryUsed() int64 { return int64(C.sb_memory_used()) }
