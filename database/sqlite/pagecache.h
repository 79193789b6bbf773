// The parts of SQLite's page cache interface (sqlite3.h, "Custom Page
// Cache Object") that pagecache.c uses, as SQLite declares them; the
// layout is SQLite's stable ABI (sqlite3_pcache_methods2).

typedef struct sqlite3_pcache sqlite3_pcache;
typedef struct sqlite3_pcache_page {
	void *pBuf;
	void *pExtra;
} sqlite3_pcache_page;

typedef struct sqlite3_pcache_methods2 {
	int iVersion;
	void *pArg;
	int (*xInit)(void *);
	void (*xShutdown)(void *);
	sqlite3_pcache *(*xCreate)(int szPage, int szExtra, int bPurgeable);
	void (*xCachesize)(sqlite3_pcache *, int nCachesize);
	int (*xPagecount)(sqlite3_pcache *);
	sqlite3_pcache_page *(*xFetch)(sqlite3_pcache *, unsigned key, int createFlag);
	void (*xUnpin)(sqlite3_pcache *, sqlite3_pcache_page *, int discard);
	void (*xRekey)(sqlite3_pcache *, sqlite3_pcache_page *, unsigned oldKey, unsigned newKey);
	void (*xTruncate)(sqlite3_pcache *, unsigned iLimit);
	void (*xDestroy)(sqlite3_pcache *);
	void (*xShrink)(sqlite3_pcache *);
} sqlite3_pcache_methods2;

// sb_pagecache_install wraps SQLite's page cache (see pagecache.go); it
// must run before SQLite initializes. It returns SQLite's result code.
int sb_pagecache_install(void);

// sb_pagecache_counts are the truncations SQLite asked for and those
// passed on to its cache, since the process started.
void sb_pagecache_counts(long long *asked, long long *passed);

// sb_pagecache_pass_all makes the wrapper pass on every truncation (on
// != 0), as without it: for the benchmark's baseline.
void sb_pagecache_pass_all(int on);
