/**
 * What the CLI and fidelity tests share: a real controller (embedded NIC,
 * ephemeral ports, spawned like `npm start`), the real `nicvisor` binary,
 * ovs-ofctl as the vNF's OpenFlow client, and a private Open vSwitch.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, TEST_TOKENS, testEnv } from '../../apps/controller/src/spec-app.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Stands in for the tests of a real peer that is not installed: a skipped
 * test saying what is missing, or under CI=true (CI installs every peer) a
 * failing one, so a CI run can never pass without them.
 */
export function peerMissing(what: string, install: string): void {
  if (process.env.CI === 'true') {
    it(`needs ${what} in CI`, () => {
      throw new Error(`CI=true but ${what} is not installed: ${install}`);
    });
  } else {
    it.skip(`SKIPPED — ${what} is not installed (${install}); CI=true makes this fail instead`, () => undefined);
  }
}

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Runs `node --import ./bin/register.js ENTRY [ARGS…]` (entry: the file, or the file and its arguments) from the repo root; resolves once its output matches `ready`. */
export async function spawnNode(entry: string | readonly string[], env: NodeJS.ProcessEnv, ready: RegExp, what: string, timeoutMs = 40_000): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', './bin/register.js', ...(typeof entry === 'string' ? [entry] : entry)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${what} exited:\n${out}`));
    });
  });
  return { child, output: () => out, exited };
}

export interface Controller extends Spawned {
  url: string;
  stop(): Promise<void>;
}

/**
 * Spawns the controller on ephemeral ports (the embedded NIC unless `env` says otherwise); resolves once it printed its URL.
 * Its data directory is a fresh one, removed by stop(), unless `dataDir` is given (then kept).
 */
export async function startController(opts: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Controller> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'nicvisor-cli-'));
  const p = await spawnNode(
    'apps/controller/src/main.ts',
    { ...testEnv(dataDir), NICVISOR_URL: '', ...opts.env },
    /nicvisor: try/,
    'controller',
  );
  const url = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(p.output())![1]!;
  const { child, exited } = p;
  return {
    ...p,
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's environment against a test controller at `url`: its admin token. */
export function cliEnv(url: string): NodeJS.ProcessEnv {
  return { ...process.env, NICVISOR_URL: url, NICVISOR_TOKEN: TEST_TOKENS.admin };
}

/** The real binary (bin/nicvisor.js), as an operator runs it; `env` overrides cliEnv(url). */
export function nicvisor(url: string, args: string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/nicvisor.js', ...args], { cwd: ROOT, env: { ...cliEnv(url), ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
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

export interface OvsDaemons {
  dir: string;
  /** OVS_RUNDIR: sockets, pid files; a `unix:` controller target must lie in it. */
  rundir: string;
  /** The OVSDB remote, `unix:RUNDIR/db.sock`. */
  db: string;
  /** ovs-vsctl against this OVSDB (throws with its stderr on failure). */
  vsctl(args: string[]): string;
  /** ovs-appctl to this ovs-vswitchd (e.g. ofproto/trace). */
  appctl(args: string[]): Run;
  /** A bridge's management socket, for ovs-ofctl. */
  mgmt(bridge: string): string;
  stop(): void;
}

export interface Ovs extends OvsDaemons {
  /** br0's management socket, for ovs-ofctl. */
  target: string;
}

/**
 * A private Open vSwitch without bridges:
 * its own directory, ovsdb-server, and ovs-vswitchd in its own network
 * namespace (the userspace datapath's tap devices must not clash). Stopped
 * by its pid files.
 */
export function startOvsDaemons(): OvsDaemons {
  const dir = mkdtempSync(join(tmpdir(), 'nicvisor-ovs-'));
  const rundir = `${dir}/run`;
  const db = `unix:${rundir}/db.sock`;
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: `${dir}/db`, OVS_LOGDIR: `${dir}/log`, OVS_SYSCONFDIR: `${dir}/db` };
  const sh = (script: string): string => execFileSync('sh', ['-ec', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  sh(`mkdir -p ${rundir} ${dir}/db ${dir}/log
ovsdb-tool create ${dir}/db/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server ${dir}/db/conf.db --remote=punix:${rundir}/db.sock --pidfile=${rundir}/ovsdb-server.pid --log-file=${dir}/log/ovsdb-server.log --detach
ovs-vsctl --db=${db} --no-wait init`);
  const stop = (): void => {
    for (const p of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
      try {
        const pid = Number(readFileSync(`${rundir}/${p}`, 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch {
        /* not running */
      }
    }
  };
  try {
    sh(`unshare -n sh -ec 'ip link set lo up; exec ovs-vswitchd ${db} --pidfile=${rundir}/ovs-vswitchd.pid --log-file=${dir}/log/ovs-vswitchd.log --detach'`);
  } catch (e) {
    stop();
    throw e;
  }
  return {
    dir,
    rundir,
    db,
    vsctl: (args) => execFileSync('ovs-vsctl', [`--db=${db}`, '--timeout=20', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    appctl(args) {
      try {
        return { code: 0, stdout: execFileSync('ovs-appctl', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
      } catch (e) {
        const x = e as { status?: number; stdout?: string; stderr?: string };
        return { code: x.status ?? 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
      }
    },
    mgmt: (bridge) => `unix:${rundir}/${bridge}.mgmt`,
    stop,
  };
}

/**
 * startOvsDaemons() with bridge br0: netdev datapath, OpenFlow 1.3,
 * fail-mode=secure, datapath id 0xabc, default flows deleted.
 */
export function startOvs(): Ovs {
  const ovs = startOvsDaemons();
  try {
    ovs.vsctl(['add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'protocols=OpenFlow13', 'fail-mode=secure', 'other-config:datapath-id=0000000000000abc']);
    const del = ovsOfctl(['del-flows', ovs.mgmt('br0')]);
    if (del.code !== 0) throw new Error(`ovs-ofctl del-flows br0: ${del.stderr}`);
  } catch (e) {
    ovs.stop();
    throw e;
  }
  return { ...ovs, target: ovs.mgmt('br0') };
}

// ---------------------------------------------------------------------------
// vNF-side clients: ovs-ofctl with its OpenFlow conversation, ovs-ofctl monitor, os-ken

/** One OpenFlow message in ovs-ofctl's vconn debug log. */
export interface OfctlMessage {
  dir: 'sent' | 'received';
  /** ovs-ofctl's name of the message: OFPT_FLOW_MOD, OFPST_FLOW, NXT_SET_PACKET_IN_FORMAT, … */
  name: string;
  xid: number;
  /** The rest of the header line (for an error: its name, e.g. OFPBRC_BAD_VENDOR). */
  detail: string;
}

export interface TracedRun extends Run {
  messages: OfctlMessage[];
}

/** The messages of ovs-ofctl's `-vvconn:dbg` log (stderr), in order. */
export function ofctlMessages(log: string): OfctlMessage[] {
  const out: OfctlMessage[] = [];
  for (const m of log.matchAll(/\|vconn\|DBG\|[^\n]*?: (sent \(Success\)|received): (\S+) [^\n]*?\(xid=(0x[0-9a-f]+)\):? ?([^\n]*)/g)) {
    out.push({ dir: m[1] === 'received' ? 'received' : 'sent', name: m[2]!, xid: Number(m[3]), detail: m[4]!.trim() });
  }
  return out;
}

/** `ovs-ofctl -O OpenFlow13 -vvconn:dbg ARGS`: its output and every message it sent and received. */
export function ovsOfctlTraced(args: string[], timeoutMs = 30_000): TracedRun {
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', '-vvconn:dbg', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, messages: ofctlMessages(r.stderr) };
}

export interface Monitor {
  /** What it printed: the asynchronous messages it received (ovs-ofctl monitor prints them on stderr). */
  printed(): string;
  /** Its conversation, from its vconn debug log. */
  messages(): OfctlMessage[];
  /** Resolves once `pred` holds. */
  until(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `ovs-ofctl monitor TARGET ARGS` in the background; its vconn debug log in a
 * file, apart from what it prints, and its unixctl socket in a private run
 * directory (the default one may not exist). Stopped by its pid.
 */
export function ovsMonitor(target: string, args: string[] = []): Monitor {
  const run = mkdtempSync(join(tmpdir(), 'nicvisor-monitor-'));
  const logFile = join(run, 'vconn.log');
  const child = spawn('ovs-ofctl', ['-O', 'OpenFlow13', `--log-file=${logFile}`, '-vvconn:file:dbg', 'monitor', target, ...args], { env: { ...process.env, OVS_RUNDIR: run }, stdio: ['ignore', 'ignore', 'pipe'] });
  let printed = '';
  child.stderr!.on('data', (c: Buffer) => (printed += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    printed: () => printed,
    messages: () => ofctlMessages(log()),
    async until(pred, what, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        const gone = child.exitCode !== null || child.signalCode !== null;
        if (gone || Date.now() > deadline) throw new Error(`ovs-ofctl monitor: ${gone ? 'exited before' : `no ${what} within ${timeoutMs / 1000} s`}: printed:\n${printed}\nlog:\n${log()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
      await exited;
      rmSync(run, { recursive: true, force: true });
    },
  };
}

/** A frame arriving on one of a vNF instance's NIC ports (`POST /v1/instances/:vnf/ports/:port/inject`). */
export async function injectFrame(url: string, vnf: string, port: number, frame: Buffer): Promise<void> {
  const r = await call(url, 'POST', `/v1/instances/${vnf}/ports/${port}/inject`, { frame: frame.toString('hex') });
  if (r.status !== 200 || r.body?.delivered !== true) throw new Error(`inject into ${vnf} port ${port}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Debian's interpreter: the first python3 on PATH may be another one without Debian's packages. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Debian's osken-manager (python3-os-ken), if installed and importable. */
export function osKenManager(): string | undefined {
  if (spawnSync(DEBIAN_PYTHON, ['-c', 'import os_ken'], { stdio: 'ignore' }).status !== 0) return undefined;
  if (existsSync('/usr/bin/osken-manager')) return '/usr/bin/osken-manager';
  const w = spawnSync('sh', ['-c', 'command -v osken-manager'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() !== '' ? w.stdout.trim() : undefined;
}

/** A free TCP port on 127.0.0.1 (for a peer that must be told its port). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface OsKen {
  /** Where it listens: the connect-mode target of a delegated channel. */
  target: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * `osken-manager APP` listening on 127.0.0.1 (the delegated channel dials it), `env` added to its environment. Stopped by its pid.
 * `opts.port`: where (default a free port). `opts.tls` (PEM file paths): TLS only, requiring a client certificate of `caCerts`; the target is ssl:.
 */
export async function startOsKen(
  manager: string,
  app: string,
  env: NodeJS.ProcessEnv = {},
  opts: { port?: number; tls?: { privkey: string; cert: string; caCerts: string } } = {},
): Promise<OsKen> {
  const port = opts.port ?? (await freePort());
  const tls = opts.tls;
  const listen = tls === undefined
    ? ['--ofp-tcp-listen-port', String(port)]
    : ['--ofp-ssl-listen-port', String(port), '--ctl-privkey', tls.privkey, '--ctl-cert', tls.cert, '--ca-certs', tls.caCerts];
  const child = spawn(manager, ['--ofp-listen-host', '127.0.0.1', ...listen, app], {
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    target: `${tls === undefined ? 'tcp' : 'ssl'}:127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid, 'SIGTERM');
      const t = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
