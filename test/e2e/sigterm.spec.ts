/**
 * `npm start` on a data directory, then SIGTERM: the process closes the
 * channels, flushes and closes the store and exits; the database it leaves
 * holds the instance, its shadow (the operator's flows) and the audit log.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DB_FILE, Store } from '@nicvisor/storage';
import { call, testEnv } from '../../apps/controller/src/spec-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-sigterm-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('SIGTERM flushes and closes the store; everything is in the database after exit', async () => {
  const child = spawn(process.execPath, ['--import', './bin/register.js', 'apps/controller/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...testEnv(dir) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not started within 30 s: ${out}`)), 30_000);
      child.stdout!.on('data', () => {
        if (/nicvisor: try/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`exited: ${out}`)));
    });
    expect(out).not.toMatch(/not bound|in memory/i);
    const url = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    const res = await call(url, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
    expect(res.status).toBe(201);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  // Nest re-raises the signal once its shutdown hooks are done.
  const { code, signal } = await exited;
  expect(code === 0 || signal === 'SIGTERM').toBe(true);
  // The store was closed: SQLite removes the WAL file when the last connection closes cleanly.
  expect(existsSync(join(dir, `${DB_FILE}-wal`))).toBe(false);

  const store = Store.openDataDir(dir);
  try {
    expect(store.instances.get('fw1')).toMatchObject({ tenant: 'acme', ports: [1, 2], channel: { mode: 'listen' } });
    expect(store.instances.get('fw1')!.channel.endpointPort).toBeGreaterThan(0);
    expect(store.shadow.countsOf('fw1')).toMatchObject({ flows: 2, byOwner: { operator: { flows: 2 } } });
    expect(store.audit.query({ vnf: 'fw1', action: 'instance.create' })).toEqual([expect.objectContaining({ result: 'ok', tenant: 'acme' })]);
  } finally {
    store.close();
  }
}, 60_000);
