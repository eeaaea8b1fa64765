/** Token configuration (NICVISOR_API_TOKENS, NICVISOR_API_TOKEN_FILE), the constant-time check, and the demo's token file. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { ApiTokens, resolveAuth } from './api-tokens.js';

const ADMIN = 'adm1n-0123456789abcdef';
const READ = 'r3ad-0123456789abcdef';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nicvisor-tokens-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, dir);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('no ConfigError');
}

describe('token configuration', () => {
  it('reads SCOPE:TOKEN entries from NICVISOR_API_TOKENS', () => {
    expect(loadConfig({ NICVISOR_API_TOKENS: ` admin:${ADMIN} , read:${READ}` }).auth).toEqual({
      source: 'env',
      tokens: [
        { scope: 'admin', token: ADMIN },
        { scope: 'read', token: READ },
      ],
    });
  });

  it('names each bad entry by position, never printing the token', () => {
    const p = problems({ NICVISOR_API_TOKENS: `write:${ADMIN},admin:short,${READ},read:${READ},admin:${READ}` });
    expect(p).toEqual([
      'NICVISOR_API_TOKENS entry 1: scope "write" is not admin or read',
      'NICVISOR_API_TOKENS entry 2 (admin): the token must be 16 or more of A-Z a-z 0-9 . _ ~ + / = -',
      'NICVISOR_API_TOKENS entry 3: expected SCOPE:TOKEN with SCOPE admin or read',
      'NICVISOR_API_TOKENS entry 5 (admin): the same token is listed twice',
    ]);
    expect(p.join('\n')).not.toContain(ADMIN);
  });

  it('reads a token file (one entry a line, comments skipped), relative to the working directory', () => {
    writeFileSync(join(dir, 'tokens'), `# orchestrator\nadmin:${ADMIN}\n\n# prometheus\nread:${READ}\n`);
    expect(loadConfig({ NICVISOR_API_TOKEN_FILE: 'tokens' }, dir).auth).toEqual({
      source: 'file',
      file: join(dir, 'tokens'),
      tokens: [
        { scope: 'admin', token: ADMIN },
        { scope: 'read', token: READ },
      ],
    });
    expect(problems({ NICVISOR_API_TOKEN_FILE: 'missing' })).toEqual(['NICVISOR_API_TOKEN_FILE=missing: cannot read it (ENOENT)']);
    writeFileSync(join(dir, 'empty'), '# nothing yet\n');
    expect(problems({ NICVISOR_API_TOKEN_FILE: 'empty' })).toEqual(['NICVISOR_API_TOKEN_FILE=empty: no tokens (expected SCOPE:TOKEN entries)']);
    expect(problems({ NICVISOR_API_TOKEN_FILE: 'tokens', NICVISOR_API_TOKENS: `admin:${ADMIN}` })).toEqual([
      'NICVISOR_API_TOKENS and NICVISOR_API_TOKEN_FILE: set one of them, not both',
    ]);
  });
});

describe('ApiTokens', () => {
  it('knows each token with its scope, and nothing else', () => {
    const t = new ApiTokens([
      { scope: 'admin', token: ADMIN },
      { scope: 'read', token: READ },
    ]);
    expect([t.scopeOf(ADMIN), t.scopeOf(READ)]).toEqual(['admin', 'read']);
    for (const other of ['', ADMIN.slice(0, -1), `${ADMIN}x`, ADMIN.toUpperCase(), `admin:${ADMIN}`]) expect(t.scopeOf(other)).toBeUndefined();
  });
});

describe('the demo token (no tokens configured)', () => {
  it('is generated into the data directory with mode 0600, and reused after a restart', () => {
    const data = join(dir, 'data');
    const config = loadConfig({ NICVISOR_DATA_DIR: data });
    expect(config.auth).toEqual({ source: 'generated', file: join(data, 'api-token') });

    const first = resolveAuth(config.auth);
    const token = first.createdToken!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(data, 'api-token')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(data, 'api-token'), 'utf8')).toBe(`admin:${token}\n`);
    expect(first.tokens.scopeOf(token)).toBe('admin');

    const again = resolveAuth(config.auth);
    expect(again.createdToken).toBeUndefined();
    expect(again.tokens.scopeOf(token)).toBe('admin');
  });

  it('takes the file back to 0600 if it was opened up, and refuses a corrupt one', () => {
    const file = join(dir, 'api-token');
    resolveAuth({ source: 'generated', file });
    chmodSync(file, 0o644);
    resolveAuth({ source: 'generated', file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'garbage\n');
    expect(() => resolveAuth({ source: 'generated', file })).toThrow(ConfigError);
  });
});
