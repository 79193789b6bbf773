//go:build linux && cgo

package sqlite

/*
#include "pagecache.h"
*/
import "C"

import "fmt"

// installPageCache puts a thin wrapper around SQLite's page cache
// (pagecache.c) for every database of the process. It must run before
// SQLite initializes: before any connection opens, or any VFS registers.
//
// Why: at the end of every write transaction SQLite truncates the page
// cache to the database's size (pager_end_transaction), and its cache,
// pcache1, walks every hash slot and every cached page when the largest
// key it has seen is far above that size. A b-tree balance that reorders
// new pages (balance_nonroot) parks a page at the lock page's number,
// 262,145 with 4 KiB pages, for a moment, and from then on the cache's
// largest key is that. So every commit after a page split walked the
// whole cache, a cost that grows with the cache (the writer's cache_size
// is 64 MiB) on a server that has run for a while (docs/performance-journal.md).
// The wrapper knows the
// largest key a page can have, but for parked pages, and answers a
// truncation above it without pcache1.
func installPageCache() error {
	if rc := C.sb_pagecache_install(); rc != 0 {
		return fmt.Errorf("sqlite: installing the SQLite page cache: SQLite error %d (SQLite was initialized before)", int(rc))
	}
	return nil
}

// pageCacheCounts are the page cache truncations SQLite asked for and
// those passed on to pcache1, since the process started.
func pageCacheCounts() (asked, passed int64) {
	var a, p C.longlong
	C.sb_pagecache_counts(&a, &p)
	return int64(a), int64(p)
}

// passAllTruncations makes the wrapper pass on every truncation, as
// SQLite does without it: the baseline of BenchmarkCommitAfterSplits.
func passAllTruncations(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.sb_pagecache_pass_all(v)
}
