/** `npm start`: prints where it listens and a first curl; a bad variable exits 1 naming it; SIGTERM shuts down cleanly. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function run(env: Record<string, string>): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', './bin/register.js', 'apps/controller/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

it('prints the REST URL, the microservice port and a first curl, and stops on SIGTERM', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nicvisor-main-'));
  const child = run({ NICVISOR_HTTP_PORT: '0', NICVISOR_RPC_PORT: '0', NICVISOR_OF_PORT: '0', NICVISOR_CHANNEL_PORTS: '0', NICVISOR_DATA_DIR: dataDir });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no curl line within 30 s: ${out}`)), 30_000);
      const check = (): void => {
        if (/nicvisor: try/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      void exited.then(() => reject(new Error(`exited: ${out}`)));
    });
    const url = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect(out).toMatch(/microservice\s+tcp:127\.0\.0\.1:\d+/);
    expect(out).toContain('embedded emulated NIC (16 ports)');
    expect(out).toContain(`curl -s -X POST ${url}/v1/instances`);
    const h = await fetch(`${url}/healthz`);
    expect(h.status).toBe(200);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  rmSync(dataDir, { recursive: true, force: true });
  expect(code === 0 || code === null).toBe(true);
}, 60_000);

it('exits 1 naming a bad variable', async () => {
  const child = run({ NICVISOR_HTTP_PORT: 'http' });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  expect(code).toBe(1);
  expect(err).toContain('NICVISOR_HTTP_PORT=http');
}, 30_000);
