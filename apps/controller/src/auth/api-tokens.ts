/**
 * The orchestrator API's bearer tokens: checked in constant time (SHA-256
 * of the presented token against every configured digest, with
 * timingSafeEqual, no early exit), and the demo's generated token file.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, parseApiTokens, type ApiScope, type ApiToken, type AuthConfig } from '../config.js';

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export class ApiTokens {
  private readonly entries: ReadonlyArray<{ digest: Buffer; scope: ApiScope }>;

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), scope: t.scope }));
  }

  /** The scope of a presented token, or undefined when it is not one of ours. */
  scopeOf(presented: string): ApiScope | undefined {
    const d = digest(presented);
    let found: ApiScope | undefined;
    // Every digest is compared, so the time taken says nothing about which one matched.
    for (const e of this.entries) if (timingSafeEqual(d, e.digest) && found === undefined) found = e.scope;
    return found;
  }
}

export interface ResolvedAuth {
  tokens: ApiTokens;
  config: AuthConfig;
  /** The demo's token, only when this start created it (printed once by main.ts). */
  createdToken?: string;
}

/** The configured tokens; for the demo, the token in the data directory, created (0600) if absent. */
export function resolveAuth(auth: AuthConfig): ResolvedAuth {
  if (auth.source !== 'generated') return { tokens: new ApiTokens(auth.tokens), config: auth };
  let text: string | undefined;
  try {
    text = readFileSync(auth.file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text === undefined) {
    const token = randomBytes(32).toString('base64url');
    mkdirSync(dirname(auth.file), { recursive: true });
    // 'wx': never overwrite a token another process just wrote.
    writeFileSync(auth.file, `admin:${token}\n`, { mode: 0o600, flag: 'wx' });
    return { tokens: new ApiTokens([{ scope: 'admin', token }]), config: auth, createdToken: token };
  }
  // The file holds a secret: readable by its owner only, whatever happened to it since.
  if ((statSync(auth.file).mode & 0o077) !== 0) chmodSync(auth.file, 0o600);
  const r = parseApiTokens(text, auth.file, 'line');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { tokens: new ApiTokens(r.tokens), config: auth };
}
