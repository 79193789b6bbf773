// Web Storage that may be missing: a browser that blocks third-party
// storage (incognito windows, strict privacy settings) throws on any use
// of sessionStorage in a frame embedded by another site. The widget then
// keeps its sign-in in memory, for the life of the page.

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

function usable(get: () => Storage): Storage | null {
  try {
    const s = get();
    s.setItem('switchboard:probe', '1');
    s.removeItem('switchboard:probe');
    return s;
  } catch {
    return null;
  }
}

let session: Storage | null = null;
let local: Storage | null = null;

/** sessionStorage (this tab, survives reloads), or memory if it is blocked. */
export function sessionStore(): Storage {
  return (session ??= usable(() => window.sessionStorage) ?? new MemoryStorage());
}

/** localStorage, or memory if it is blocked. */
export function localStore(): Storage {
  return (local ??= usable(() => window.localStorage) ?? new MemoryStorage());
}
