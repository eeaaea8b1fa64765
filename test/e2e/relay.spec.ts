/**
 * The configuration relay (apps/relay) as a process between vNFs and
 * nicvisor: instances placed on node1 (fw1, fw2) and node2 (fw3); node1's
 * relay, with node1's certificate, gives each vNF a unix socket. A vNF on
 * its socket programs its own instance; the vNF on another socket cannot
 * touch it; a socket for a vNF of another node is refused (audited); a
 * vNF's certificate is no relay's. Killing the relay (SIGKILL) and starting
 * it again loses nothing: the flows stay and the vNF's channel comes back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { encodeMessage, OFPFC, OFPT, OFPTT, ourHello } from '@nicvisor/openflow';
import { createApp, type ControllerApp } from '../../apps/controller/src/app.module.js';
import { loadConfig } from '../../apps/controller/src/config.js';
import { RELAY_PREAMBLE } from '../../apps/controller/src/openflow/relay-endpoint.js';
import { flowMod, output, sleep, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { testEnv } from '../../apps/controller/src/spec-app.js';
import { spawnNode, type Spawned } from '../interop/harness.js';
import { call, dumpFlows, emulatorFlows, flowKey, until } from './helpers.js';

let dir: string;
let app: ControllerApp;
let relay: Spawned | undefined;
const dpid: Record<string, string> = {};
const pem: Record<string, string> = {};

function startRelay(): Promise<Spawned> {
  return spawnNode(
    ['apps/relay/src/main.ts', '--controller', `127.0.0.1:${app.relayPort}`, '--key', pem.key!, '--cert', pem.cert!, '--ca', pem.ca!, '--socket-dir', join(dir, 'sockets'), '--vnf', 'fw1', '--vnf', 'fw2', '--vnf', 'fw3'],
    {},
    /relay: listening/,
    'relay',
  );
}

async function stopRelay(signal: NodeJS.Signals): Promise<void> {
  const r = relay;
  relay = undefined;
  if (r === undefined || r.child.exitCode !== null || r.child.signalCode !== null) return;
  r.child.kill(signal);
  await r.exited;
}

/** A vNF on its VM's socket: HELLO answered through the relay. */
async function vnfOn(vnf: string): Promise<VnfClient> {
  const s = netConnect({ path: join(dir, 'sockets', `${vnf}.sock`) });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  const c = VnfClient.fromSocket(s);
  c.send(ourHello(1));
  await c.waitFor((m) => m.type === OFPT.HELLO, 5000);
  return c;
}

const tenantFlows = (vnf: string): string[] => emulatorFlows(app, dpid[vnf]!).filter((f) => f.tableId !== 0).map(flowKey).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-relay-'));
  app = await createApp(loadConfig({ ...testEnv(dir), NICVISOR_RELAY_PORT: '0' }), { logger: false });
  expect(app.relayPort).toBeGreaterThan(0);
  for (const [vnf, node, ports] of [['fw1', 'node1', [1, 2]], ['fw2', 'node1', [3, 4]], ['fw3', 'node2', [5]]] as const) {
    const r = await call(app, 'POST', '/v1/instances', { vnf, tenant: vnf === 'fw1' ? 'acme' : 'globex', ports, node });
    expect(r.status).toBe(201);
    expect(r.body.node).toBe(node);
    dpid[vnf] = r.body.datapathId;
  }
  const c = await call(app, 'POST', '/v1/nodes/node1/credentials');
  expect(c.status).toBe(201);
  expect(c.body.identity).toBe('urn:nicvisor:node:node1');
  for (const k of ['key', 'cert', 'ca'] as const) {
    pem[k] = join(dir, `node1.${k}`);
    writeFileSync(pem[k], c.body[k], { mode: 0o600 });
  }
  relay = await startRelay();
}, 60_000);

afterAll(async () => {
  await stopRelay('SIGTERM');
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the configuration relay', () => {
  it('a vNF on its socket programs its own instance', async () => {
    const c = await vnfOn('fw1');
    c.send(flowMod({ tableId: 0, priority: 40, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }));
    await c.barrier();
    expect(c.errors()).toEqual([]);
    expect(emulatorFlows(app, dpid.fw1!).filter((f) => f.tableId === 1 && f.priority === 40)).toHaveLength(1);
    c.close();
  });

  it("the vNF on another socket cannot touch the first vNF's instance", async () => {
    const before = tenantFlows('fw1');
    const c = await vnfOn('fw2');
    c.send(flowMod({ tableId: 0, priority: 41, match: [{ field: 'in_port', value: 3 }], actions: [output(4)] }));
    // Everything it may delete, in every table it can name: its own instance only.
    c.send(flowMod({ tableId: OFPTT.ALL, command: OFPFC.DELETE }));
    c.send(flowMod({ tableId: 0, priority: 42, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }));
    await c.barrier();
    expect(tenantFlows('fw1')).toEqual(before);
    expect(c.errors().length).toBeGreaterThan(0); // port 1 is fw1's, not fw2's
    expect(emulatorFlows(app, dpid.fw2!).some((f) => f.priority === 42)).toBe(false);
    c.close();
  });

  it("refuses, and audits, a socket whose vNF is placed on another node", async () => {
    const s = netConnect({ path: join(dir, 'sockets', 'fw3.sock') });
    let closed = false;
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('close', () => (closed = true));
    s.on('error', () => undefined);
    s.write(Buffer.concat([encodeMessage(ourHello(1)), encodeMessage(flowMod({ tableId: 0, priority: 43, actions: [output(5)] }))]));
    await until(() => closed, 'the fw3 socket to be closed');
    expect(got).toEqual([]);
    await until(async () => ((await call(app, 'GET', '/v1/audit?vnf=fw3')).body as Array<{ action: string }>).some((e) => e.action === 'openflow.relay'), 'the refusal to be audited');
    const entry = ((await call(app, 'GET', '/v1/audit?vnf=fw3')).body as Array<{ action: string; result: string; detail: string }>).find((e) => e.action === 'openflow.relay')!;
    expect(entry.result).toBe('denied');
    expect(entry.detail).toMatch(/relay of node "node1" .* refused: vNF "fw3" is on node "node2"/);
    expect(tenantFlows('fw3')).toEqual([]);
  });

  it("a vNF's own certificate is not a relay's: refused before any preamble counts", async () => {
    const v = await call(app, 'POST', '/v1/instances/fw1/credentials');
    const s = tlsConnect({ host: '127.0.0.1', port: app.relayPort!, key: v.body.key, cert: v.body.cert, ca: v.body.ca, checkServerIdentity: () => undefined });
    let closed = false;
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('close', () => (closed = true));
    s.on('error', () => undefined);
    s.once('secureConnect', () => s.write(`${RELAY_PREAMBLE}fw1\n`));
    await until(() => closed, 'the relay endpoint to close the connection');
    expect(got).toEqual([]);
  });

  it('killing and restarting the relay loses nothing: the flows stay, the channel comes back', async () => {
    const c = await vnfOn('fw1');
    const before = tenantFlows('fw1');
    expect(before.length).toBeGreaterThan(0);
    await stopRelay('SIGKILL');
    await until(() => c.closed, "the vNF's connection to drop with the relay");
    await sleep(200);
    expect(tenantFlows('fw1')).toEqual(before);
    relay = await startRelay();
    const again = await vnfOn('fw1');
    const seen = await dumpFlows(again);
    expect(seen.some((f) => f.tableId === 0 && f.priority === 40)).toBe(true); // its view: table 0 is physical table 1
    again.send(flowMod({ tableId: 0, priority: 44, match: [{ field: 'in_port', value: 2 }], actions: [output(1)] }));
    await again.barrier();
    expect(tenantFlows('fw1')).toHaveLength(before.length + 1);
    again.close();
  }, 60_000);
});
