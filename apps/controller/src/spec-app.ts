/** Test support for the app-level specs: a config on ephemeral ports and a fresh data dir, and a JSON HTTP call. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControllerApp } from './app.module.js';
import { loadConfig, type ControllerConfig } from './config.js';

export function ephemeralConfig(prefix: string): { config: ControllerConfig; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const config = loadConfig(
    { NICVISOR_HTTP_PORT: '0', NICVISOR_RPC_PORT: '0', NICVISOR_OF_PORT: '0', NICVISOR_CHANNEL_PORTS: '0', NICVISOR_DATA_DIR: dataDir },
    '/tmp',
  );
  return { config, dataDir };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A request with a JSON body (a string body is sent as is, to test malformed JSON). */
export async function call(c: ControllerApp, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
