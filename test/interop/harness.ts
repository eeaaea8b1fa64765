/**
 * What the CLI and fidelity tests share: a real controller (embedded NIC,
 * ephemeral ports, spawned like `npm start`), the real `nicvisor` binary,
 * ovs-ofctl as the vNF's OpenFlow client, and a private Open vSwitch.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Controller {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Spawns the controller with the embedded NIC on ephemeral ports; resolves once it printed its URL. */
export async function startController(): Promise<Controller> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nicvisor-cli-'));
  const child = spawn(process.execPath, ['--import', './bin/register.js', 'apps/controller/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NICVISOR_HTTP_PORT: '0', NICVISOR_RPC_PORT: '0', NICVISOR_OF_PORT: '0', NICVISOR_CHANNEL_PORTS: '0', NICVISOR_DATA_DIR: dataDir, NICVISOR_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller did not start within 40 s:\n${out}`)), 40_000);
    const check = (): void => {
      if (/nicvisor: try/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`controller exited:\n${out}`));
    });
  });
  const url = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real binary (bin/nicvisor.js), as an operator runs it. */
export function nicvisor(url: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nicvisor.js', ...args], { cwd: ROOT, env: { ...process.env, NICVISOR_URL: url }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export function ovsOfctl(args: string[]): Run {
  try {
    const stdout = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const x = e as { status?: number; stdout?: string; stderr?: string };
    return { code: x.status ?? 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** Writes lines to a temporary file (for `ovs-ofctl add-flows/add-groups FILE`). */
export function tempFile(name: string, lines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-'));
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

/** dump-* output without ovs-ofctl's reply headers, each line trimmed, sorted. */
export function flowLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^OFPST_\w+ reply/.test(l))
    .map((l) => l.trim())
    .sort();
}

export interface Ovs {
  dir: string;
  /** The bridge's management socket, for ovs-ofctl. */
  target: string;
  stop(): void;
}

/**
 * A private Open vSwitch (the recipe in the shared PLATFORM.md): its own directory, and
 * ovs-vswitchd in its own network namespace (the userspace datapath's tap
 * device must not clash); bridge br0, netdev datapath, OpenFlow 1.3,
 * fail-mode=secure, default flows deleted. Stopped by its pid files.
 */
export function startOvs(): Ovs {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-ovs-'));
  const env = { ...process.env, OVS_RUNDIR: `${dir}/run`, OVS_DBDIR: `${dir}/db`, OVS_LOGDIR: `${dir}/log`, OVS_SYSCONFDIR: `${dir}/db` };
  const sh = (script: string): string => execFileSync('sh', ['-ec', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  sh(`mkdir -p ${dir}/run ${dir}/db ${dir}/log
ovsdb-tool create ${dir}/db/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server ${dir}/db/conf.db --remote=punix:${dir}/run/db.sock --pidfile=${dir}/run/ovsdb-server.pid --log-file=${dir}/log/ovsdb-server.log --detach
ovs-vsctl --db=unix:${dir}/run/db.sock --no-wait init`);
  const stop = (): void => {
    for (const p of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
      try {
        const pid = Number(readFileSync(`${dir}/run/${p}`, 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch {
        /* not running */
      }
    }
  };
  try {
    sh(`unshare -n sh -ec 'ip link set lo up; exec ovs-vswitchd unix:${dir}/run/db.sock --pidfile=${dir}/run/ovs-vswitchd.pid --log-file=${dir}/log/ovs-vswitchd.log --detach'
ovs-vsctl --db=unix:${dir}/run/db.sock --timeout=20 add-br br0 -- set bridge br0 datapath_type=netdev protocols=OpenFlow13 fail-mode=secure other-config:datapath-id=0000000000000abc
ovs-ofctl -O OpenFlow13 del-flows unix:${dir}/run/br0.mgmt`);
  } catch (e) {
    stop();
    throw e;
  }
  return { dir, target: `unix:${dir}/run/br0.mgmt`, stop };
}
