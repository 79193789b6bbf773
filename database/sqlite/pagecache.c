//go:build linux && cgo

// SQLite's own page cache (pcache1), with truncations that cannot discard
// anything answered without it. See pagecache.go for why.

#include <stdlib.h>

#include "pagecache.h"

// SQLite is linked in by github.com/mattn/go-sqlite3 (weak, as in
// walbatch.c, so that this package's own cgo link step passes).
extern int sqlite3_config(int, ...) __attribute__((weak));

#define SQLITE_CONFIG_PCACHE2 18
#define SQLITE_CONFIG_GETPCACHE2 19
// SQLite's PENDING_BYTE: the page holding it (the lock page) is never
// part of a database, so balance_nonroot parks pages at its number.
#define PENDING_BYTE 0x40000000u

typedef struct pc pc;
struct pc {
	sqlite3_pcache *real;
	unsigned lock_page; // PENDING_BYTE's page for this cache's page size
	// No page has a key above max, but for the parked pages: those keyed
	// lock_page, counted in parked.
	unsigned max;
	int parked;
};

static sqlite3_pcache_methods2 real;
static long long asked, passed;
static int pass_all;

static pc *cache(sqlite3_pcache *p) { return (pc *)p; }

static int pc_init(void *arg) { return real.xInit(real.pArg); }
static void pc_shutdown(void *arg) {
	if (real.xShutdown) real.xShutdown(real.pArg);
}

static sqlite3_pcache *pc_create(int sz_page, int sz_extra, int purgeable) {
	pc *c = calloc(1, sizeof *c);
	if (!c) return 0;
	c->real = real.xCreate(sz_page, sz_extra, purgeable);
	if (!c->real) {
		free(c);
		return 0;
	}
	c->lock_page = PENDING_BYTE / (unsigned)sz_page + 1;
	return (sqlite3_pcache *)c;
}

static void pc_cachesize(sqlite3_pcache *p, int n) { real.xCachesize(cache(p)->real, n); }
static int pc_pagecount(sqlite3_pcache *p) { return real.xPagecount(cache(p)->real); }

static sqlite3_pcache_page *pc_fetch(sqlite3_pcache *p, unsigned key, int create) {
	pc *c = cache(p);
	sqlite3_pcache_page *pg = real.xFetch(c->real, key, create);
	if (!pg) return 0;
	if (key == c->lock_page) c->parked++; // SQLite refuses the page, but it is there until it drops it
	else if (key > c->max) c->max = key;
	return pg;
}

static void pc_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard) {
	real.xUnpin(cache(p)->real, pg, discard);
}

static void pc_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned from, unsigned to) {
	pc *c = cache(p);
	real.xRekey(c->real, pg, from, to);
	if (from == c->lock_page) c->parked--;
	if (to == c->lock_page) c->parked++;
	else if (to > c->max) c->max = to;
}

// pc_truncate discards the pages keyed limit or more. When none can be
// there it returns at once: pcache1 would walk every hash slot and every
// page of the cache, its largest key seen being the lock page that a
// b-tree balance parked a page at.
static void pc_truncate(sqlite3_pcache *p, unsigned limit) {
	pc *c = cache(p);
	__atomic_add_fetch(&asked, 1, __ATOMIC_RELAXED);
	if (limit > c->max && c->parked == 0 && !__atomic_load_n(&pass_all, __ATOMIC_RELAXED)) return;
	__atomic_add_fetch(&passed, 1, __ATOMIC_RELAXED);
	real.xTruncate(c->real, limit);
	if (limit <= c->max) c->max = limit > 0 ? limit - 1 : 0;
	if (limit <= c->lock_page) c->parked = 0;
}

static void pc_destroy(sqlite3_pcache *p) {
	real.xDestroy(cache(p)->real);
	free(p);
}

static void pc_shrink(sqlite3_pcache *p) {
	if (real.xShrink) real.xShrink(cache(p)->real);
}

int sb_pagecache_install(void) {
	int rc = sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &real);
	if (rc != 0) return rc;
	static sqlite3_pcache_methods2 ours;
	ours = real;
	ours.pArg = 0;
	ours.xInit = pc_init;
	ours.xShutdown = pc_shutdown;
	ours.xCreate = pc_create;
	ours.xCachesize = pc_cachesize;
	ours.xPagecount = pc_pagecount;
	ours.xFetch = pc_fetch;
	ours.xUnpin = pc_unpin;
	ours.xRekey = pc_rekey;
	ours.xTruncate = pc_truncate;
	ours.xDestroy = pc_destroy;
	ours.xShrink = pc_shrink;
	return sqlite3_config(SQLITE_CONFIG_PCACHE2, &ours);
}

void sb_pagecache_counts(long long *a, long long *p) {
	*a = __atomic_load_n(&asked, __ATOMIC_RELAXED);
	*p = __atomic_load_n(&passed, __ATOMIC_RELAXED);
}

void sb_pagecache_pass_all(int on) { __atomic_store_n(&pass_all, on, __ATOMIC_RELAXED); }
