/**
 * End-to-end helpers: the whole controller app (createApp) on ephemeral
 * ports with the embedded emulated NIC and a data directory, driven over
 * REST (fetch); the emulator read directly to check what really is on the
 * NIC. vNF clients are the project's codec (apps/controller/src/openflow/spec-helpers.ts).
 */
import 'reflect-metadata';
import { createServer, type Server, type Socket } from 'node:net';
import { OFPG, OFPMP, OFPP, OFPT, OFPTT, ourHello, type FlowStats, type OfpMessage } from '@nicvisor/openflow';
import { createApp, type ControllerApp } from '../../apps/controller/src/app.module.js';
import { loadConfig } from '../../apps/controller/src/config.js';
import { testEnv } from '../../apps/controller/src/spec-app.js';
import { CoreRuntime } from '../../apps/controller/src/instances/core-runtime.js';
import { INSTANCE_RUNTIME } from '../../apps/controller/src/instances/instance-runtime.js';
import { EmbeddedNicDriver } from '../../apps/controller/src/nic/embedded-driver.js';
import { VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { spawnNode, type Spawned } from '../interop/harness.js';

export { call, type Reply } from '../../apps/controller/src/spec-app.js';

/** The controller on ephemeral ports (REST, RPC, NIC listener, vNF channels), its state in `dataDir`. */
export function startApp(dataDir: string): Promise<ControllerApp> {
  return createApp(loadConfig(testEnv(dataDir)), { logger: false });
}

/** The app's OpenFlow runtime (the core and the NIC driver). */
export function runtimeOf(c: ControllerApp): CoreRuntime {
  const r = c.app.get<CoreRuntime>(INSTANCE_RUNTIME);
  if (!(r instanceof CoreRuntime)) throw new Error('not the core runtime');
  return r;
}

/** The embedded emulated NIC's driver. */
export function embeddedNic(c: ControllerApp): EmbeddedNicDriver {
  const d = runtimeOf(c).driver;
  if (!(d instanceof EmbeddedNicDriver)) throw new Error('not the embedded NIC');
  return d;
}

/** Every flow of an instance, read from the emulator itself (physical table ids). */
export function emulatorFlows(c: ControllerApp, datapathId: string): FlowStats[] {
  return embeddedNic(c)
    .nic.getInstance(BigInt(`0x${datapathId}`))
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
}

/** The port of a `tcp:HOST:PORT` endpoint. */
export function portOf(endpoint: string): number {
  return Number(/:(\d+)$/.exec(endpoint)![1]);
}

/** A flow as a comparable key: physical table, priority, match, instructions (no counters). */
export function flowKey(f: { tableId: number; priority: number; match: unknown; instructions: unknown; cookie?: bigint }): string {
  return JSON.stringify({ t: f.tableId, p: f.priority, m: f.match, i: f.instructions }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Waits until `pred` holds (polling), or fails with `what`. */
export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Smartnic extends Spawned {
  /** `tcp:127.0.0.1:PORT` of its microservice, for NICVISOR_NIC. */
  target: string;
  stop(): Promise<void>;
}

/** The standalone emulator (`npm run start:smartnic`) as a process, its microservice on an ephemeral port. */
export async function startSmartnic(rpcPort = 0): Promise<Smartnic> {
  const p = await spawnNode('apps/smartnic/src/main.ts', { NICVISOR_SMARTNIC_RPC_PORT: String(rpcPort) }, /smartnic: listening on \S+:\d+/, 'smartnic');
  const port = /smartnic: listening on \S+:(\d+)/.exec(p.output())![1]!;
  return {
    ...p,
    target: `tcp:127.0.0.1:${port}`,
    async stop() {
      p.child.kill('SIGTERM');
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    },
  };
}

/** A switch connected to an OfServer, after HELLO and FEATURES. */
export interface OfSession {
  client: VnfClient;
  datapathId: bigint;
}

/**
 * A small OpenFlow controller built on the codec: accepts switches (the
 * emulator's instances, or nicvisor dialling a connect-mode vNF's
 * controller), does the HELLO and FEATURES exchange with each and keeps
 * every session that completed it, in order.
 */
export class OfServer {
  readonly sessions: OfSession[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      const client = VnfClient.fromSocket(s);
      client.send(ourHello(1));
      void client
        .request({ type: OFPT.FEATURES_REQUEST, xid: 0 })
        .then((m) => {
          if (m.type === OFPT.FEATURES_REPLY) this.sessions.push({ client, datapathId: m.datapathId });
        })
        .catch(() => client.close());
    });
  }

  /** Listens on 127.0.0.1:`port` (0: ephemeral). */
  static listen(port = 0): Promise<OfServer> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(new OfServer(server));
      });
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** The latest open session of `datapathId`, waiting for one if needed. */
  async session(datapathId: bigint, ms = 20_000): Promise<OfSession> {
    const find = (): OfSession | undefined => [...this.sessions].reverse().find((x) => x.datapathId === datapathId && !x.client.closed);
    await until(() => find() !== undefined, `a switch with datapath id ${datapathId.toString(16)}`, ms);
    return find()!;
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Every flow of a switch (all tables), read over its OpenFlow channel. */
export async function dumpFlows(c: VnfClient): Promise<FlowStats[]> {
  const xid = c.xid();
  const req: OfpMessage = {
    type: OFPT.MULTIPART_REQUEST,
    xid,
    flags: 0,
    body: { mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] },
  };
  c.send(req);
  const parts = await c.replies(xid, 10_000);
  return parts.flatMap((p) => (p.type === OFPT.MULTIPART_REPLY && p.body.mpType === OFPMP.FLOW ? p.body.entries : []));
}
