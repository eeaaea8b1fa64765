/**
 * Test support for the app-level specs (and test/e2e, test/interop): a
 * config on ephemeral ports with a fresh data dir and known API tokens, and
 * a JSON HTTP call that sends the admin token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControllerApp } from './app.module.js';
import { loadConfig, type ControllerConfig } from './config.js';

/** The API tokens every test controller gets (NICVISOR_API_TOKENS); the helpers send the admin one. */
export const TEST_TOKENS = { admin: 'test-admin-token-4f9c1e27', read: 'test-read-token-8d3a6b50' } as const;

/** A test controller's variables: ephemeral ports, `dataDir`, the test tokens. */
export function testEnv(dataDir: string): Record<string, string> {
  return {
    NICVISOR_HTTP_PORT: '0',
    NICVISOR_RPC_PORT: '0',
    NICVISOR_OF_PORT: '0',
    NICVISOR_CHANNEL_PORTS: '0',
    NICVISOR_DATA_DIR: dataDir,
    NICVISOR_API_TOKENS: `admin:${TEST_TOKENS.admin},read:${TEST_TOKENS.read}`,
  };
}

export function ephemeralConfig(prefix: string): { config: ControllerConfig; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  return { config: loadConfig(testEnv(dataDir), '/tmp'), dataDir };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request with a JSON body (a string body is sent as is, to test malformed JSON), as `token` (default admin; null: none). */
export async function call(c: ControllerApp | string, method: string, path: string, body?: unknown, token: string | null = TEST_TOKENS.admin): Promise<Reply> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${typeof c === 'string' ? c : c.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
