// The benchmark's OpenID provider and its tokens, on the conformance
// suite's provider (test/js/lib): same oidc-provider configuration, same
// authorization code + PKCE login flow over HTTP, with its PROVIDER_*
// settings for thousands of numbered accounts (user-<n>, operator-<n>), a
// signing key and a port kept in a cache directory and 6 h tokens. Tokens
// are cached in <cacheDir>/tokens.json, so later rounds and later runs
// reuse them; minting happens before anything is timed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { startProvider as startTestProvider } from '../../test/js/lib/provider.mjs';
import { authorizationCodeFlow, decodeJwt } from '../../test/js/lib/tokens.mjs';

export const defaultCacheDir = () => process.env.BENCH_CACHE_DIR || path.join(os.tmpdir(), 'switchboard-bench-cache');

function readJSON(file, fallback) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return fallback; }
}

/**
 * Start the provider (same port and key as last time when it can, so the
 * cached tokens stay valid). Resolves {issuer, stop()}.
 */
export async function startProvider(cacheDir = defaultCacheDir()) {
  fs.mkdirSync(cacheDir, { recursive: true });
  const stateFile = path.join(cacheDir, 'provider.json');
  const env = {
    PROVIDER_NUMBERED_ACCOUNTS: '1',
    PROVIDER_KEY_FILE: path.join(cacheDir, 'provider-key.jwk'),
    PROVIDER_TOKEN_TTL: String(6 * 3600),
  };
  const state = readJSON(stateFile, {});
  let p;
  try {
    p = await startTestProvider({ port: state.port || 0, env });
  } catch (err) {
    if (!state.port) throw err;
    p = await startTestProvider({ port: 0, env }); // the old port is taken: new issuer, new tokens
  }
  fs.writeFileSync(stateFile, JSON.stringify({ port: Number(new URL(p.issuer).port) }));
  return p;
}

/**
 * One access token per name from the running provider: from the cache when
 * it is for this issuer and valid for at least minValidSec more, else
 * minted (concurrency at a time). Writes the cache; resolves {file, minted}.
 */
export async function mintTokens(issuer, names, { cacheDir = defaultCacheDir(), concurrency = 24, minValidSec = 3600, log = () => {} } = {}) {
  const file = path.join(cacheDir, 'tokens.json');
  const cache = readJSON(file, {});
  const have = cache.issuer === issuer ? cache.tokens || {} : {};
  const now = Date.now() / 1000;
  const todo = names.filter((n) => !(have[n] && have[n].exp > now + minValidSec));
  const t0 = Date.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length) {
      const name = todo[next++];
      let token;
      for (let attempt = 0; ; attempt++) {
        try { token = (await authorizationCodeFlow(name)).access_token; break; } catch (err) { if (attempt >= 2) throw err; }
      }
      have[name] = { token, exp: decodeJwt(token).payload.exp };
      if (++done % 1000 === 0) log(`  minted ${done}/${todo.length} tokens`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  if (todo.length) {
    fs.writeFileSync(file, JSON.stringify({ issuer, tokens: have }), { mode: 0o600 });
    log(`  minted ${todo.length} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s (${names.length - todo.length} from the cache)`);
  }
  return { file, minted: todo.length };
}
