/**
 * The real `nicvisor` binary against a real controller (embedded NIC,
 * ephemeral ports): create an instance, let the vNF add flows through its
 * delegated channel (ovs-ofctl when installed, else the project's codec as
 * the client), then inspect it the way an operator does.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { encodeMessage, Framer, decodeMessage, OFPT, type FlowMod } from '@nicvisor/openflow';
import { parseFlowMod } from '@nicvisor/openflow/text/index.js';
import { cliEnv, have, nicvisor, ovsOfctl, ROOT, startController, tempFile, type Controller } from '../interop/harness.js';

const FLOWS = [
  'table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=set_field:192.168.1.1->ip_dst,goto_table:1',
  'table=1,priority=5,tcp,tp_dst=80,actions=output:2',
  'table=1,priority=4,cookie=0x77,udp,actions=CONTROLLER:65535',
];

/** The vNF's side without ovs-ofctl: HELLO, the flow-mods, a barrier; resolves on the barrier reply. */
async function codecAddFlows(endpoint: string, flows: readonly string[]): Promise<void> {
  const [, host, port] = /^tcp:(.+):(\d+)$/.exec(endpoint)!;
  const sock = connect(Number(port), host);
  const framer = new Framer();
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.on('data', (b: Buffer) => {
      for (const raw of framer.push(b)) {
        const m = decodeMessage(raw);
        if (m.type === OFPT.ERROR) reject(new Error(`switch error ${JSON.stringify(m, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`));
        if (m.type === OFPT.BARRIER_REPLY) resolve();
      }
    });
    sock.write(encodeMessage({ type: OFPT.HELLO, xid: 1, elements: [] } as never));
    flows.forEach((f, i) => sock.write(encodeMessage({ ...parseFlowMod(f), xid: 10 + i } as FlowMod)));
    sock.write(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 99 } as never));
  });
  sock.destroy();
}

async function vnfAddFlows(endpoint: string, flows: readonly string[]): Promise<void> {
  if (have('ovs-ofctl')) expect(ovsOfctl(['add-flows', endpoint, tempFile('vnf-flows.txt', flows)])).toMatchObject({ code: 0, stderr: '' });
  else await codecAddFlows(endpoint, flows);
}

describe('nicvisor CLI against a running controller', () => {
  let ctl: Controller;
  let endpoint: string;

  beforeAll(async () => {
    ctl = await startController();
  }, 60_000);
  afterAll(async () => {
    await ctl?.stop();
  });

  it('creates, lists and shows an instance; lists tenants', async () => {
    const created = await nicvisor(ctl.url, ['instance', 'create', 'fw1', '--tenant', 'acme', '--ports', '1,2', '--json']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const inst = JSON.parse(created.stdout) as { datapathId: string; channel: { endpoint: string } };
    endpoint = inst.channel.endpoint;
    const [list, show, tenants] = await Promise.all([nicvisor(ctl.url, ['instances']), nicvisor(ctl.url, ['instance', 'show', inst.datapathId]), nicvisor(ctl.url, ['tenants'])]);
    expect(list.stdout).toMatch(/^VNF\s+TENANT\s+NIC\s+DATAPATH/);
    expect(list.stdout).toMatch(new RegExp(`fw1\\s+acme\\s+embedded\\s+${inst.datapathId}\\s+1,2`));
    expect(show.stdout).toContain('tables:      operator 0; tenant 1-63 (the vNF sees them as 0-62)');
    expect(tenants.stdout).toMatch(/acme\s+\S+\s+fw1/);
  }, 120_000);

  it('dump-flows prints ovs-ofctl lines: physical view with the operator table, --as-vnf, --owner, filters, --json', async () => {
    await vnfAddFlows(endpoint, FLOWS);
    const [phys, vnf, owner, stats, filtered, json] = await Promise.all([
      nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats']),
      nicvisor(ctl.url, ['dump-flows', 'fw1', '--as-vnf', '--no-stats']),
      nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats', '--owner', 'table=2']),
      nicvisor(ctl.url, ['dump-flows', 'fw1']),
      nicvisor(ctl.url, ['dump-flows', 'fw1', '--as-vnf', '--no-stats', 'tcp,tp_dst=80']),
      nicvisor(ctl.url, ['dump-flows', 'fw1', '--json', '--as-vnf']),
    ]);
    expect(phys.stdout.split('\n').filter(Boolean)).toEqual([
      ' cookie=0x6e76000000000001, priority=1,in_port=1 actions=goto_table:1',
      ' cookie=0x6e76000000000001, priority=1,in_port=2 actions=goto_table:1',
      ' table=1, priority=100,ip,nw_dst=10.0.0.0/24 actions=set_field:192.168.1.1->ip_dst,goto_table:2',
      ' table=2, priority=5,tcp,tp_dst=80 actions=output:2',
      ' cookie=0x77, table=2, priority=4,udp actions=CONTROLLER:65535',
    ]);
    expect(vnf.stdout).toBe(
      [' priority=100,ip,nw_dst=10.0.0.0/24 actions=set_field:192.168.1.1->ip_dst,goto_table:1', ' table=1, priority=5,tcp,tp_dst=80 actions=output:2', ' cookie=0x77, table=1, priority=4,udp actions=CONTROLLER:65535', ''].join('\n'),
    );
    if (have('ovs-ofctl')) {
      const theirs = ovsOfctl(['dump-flows', '--no-stats', endpoint]).stdout.split('\n').filter(Boolean).sort();
      expect(vnf.stdout.split('\n').filter(Boolean).sort()).toEqual(theirs);
    }
    expect(owner.stdout).toBe(' owner=tenant:acme, table=2, priority=5,tcp,tp_dst=80 actions=output:2\n owner=tenant:acme, cookie=0x77, table=2, priority=4,udp actions=CONTROLLER:65535\n');
    expect(stats.stdout).toMatch(/^ cookie=0x0, duration=\d+(\.\d+)?s, table=2, n_packets=0, n_bytes=0, priority=5,tcp,tp_dst=80 actions=output:2$/m);
    expect(filtered.stdout).toBe(' table=1, priority=5,tcp,tp_dst=80 actions=output:2\n');
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { owner: string; text: string; flow: { tableId: number } });
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ owner: 'tenant:acme', flow: { tableId: 0 } });
    expect(rows[0].text).toMatch(/^cookie=0x0, duration=/);
  }, 180_000);

  it('dump-tables and dump-ports-desc --as-vnf print what ovs-ofctl prints through the channel', async () => {
    if (!have('ovs-ofctl')) return;
    const [tables, ports] = await Promise.all([nicvisor(ctl.url, ['dump-tables', 'fw1', '--as-vnf']), nicvisor(ctl.url, ['dump-ports-desc', 'fw1'])]);
    expect(tables.stdout).toBe(ovsOfctl(['dump-tables', endpoint]).stdout);
    expect(ports.stdout).toBe(ovsOfctl(['dump-ports-desc', endpoint]).stdout);
  }, 120_000);

  it('operator add-flow / del-flows go to the operator table only', async () => {
    expect(await nicvisor(ctl.url, ['add-flow', 'fw1', 'priority=50,in_port=2,ip,actions=goto_table:1'])).toMatchObject({ code: 0, stderr: '' });
    let d = await nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats', '--owner', 'table=0,ip']);
    expect(d.stdout).toBe(' owner=operator, cookie=0x6e76000000000000, priority=50,ip,in_port=2 actions=goto_table:1\n');
    const denied = await nicvisor(ctl.url, ['add-flow', 'fw1', 'table=3,priority=1,actions=drop']);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('table 3 is not one of the operator');
    expect(await nicvisor(ctl.url, ['del-flows', 'fw1', '--strict', 'table=0,priority=50,ip,in_port=2'])).toMatchObject({ code: 0 });
    d = await nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats', 'table=0,ip']);
    expect(d.stdout).toBe('');
  }, 180_000);

  it('watch prints one line per event when not a terminal', async () => {
    const child = spawn(process.execPath, ['bin/nicvisor.js', 'watch', 'fw1', '--count', '2'], { cwd: ROOT, env: cliEnv(ctl.url), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`watch did not start: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        if (/watching fw1/.test(out)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await vnfAddFlows(endpoint, ['table=5,priority=9,actions=drop']);
    expect(await exited).toBe(0);
    expect(out).toMatch(/flow-added owner=tenant:acme table=6, priority=9 actions=drop/);
  }, 120_000);

  it('audit shows the orchestrator calls and the tenant mutations', async () => {
    const a = await nicvisor(ctl.url, ['audit', '--vnf', 'fw1', '--since', '1h']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/instance\.create\s+ok\s+201 vnf=fw1 tenant=acme/);
    const j = await nicvisor(ctl.url, ['audit', '--tenant', 'acme', '--json']);
    expect(j.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).toContain('instance.create');
  }, 120_000);

  it('bad arguments: exit code, message naming the bad token, a hint', async () => {
    const [filter, ports, since, missing, unreachable, flow] = await Promise.all([
      nicvisor(ctl.url, ['dump-flows', 'fw1', 'ip,nw_dts=10.0.0.1']),
      nicvisor(ctl.url, ['instance', 'create', 'x', '--tenant', 't', '--ports', '1,a']),
      nicvisor(ctl.url, ['audit', '--since', 'yesterday']),
      nicvisor(ctl.url, ['dump-flows', 'nope']),
      nicvisor('http://127.0.0.1:1', ['instances']),
      nicvisor(ctl.url, ['add-flow', 'fw1', 'priority=1,actions=outptu:2']),
    ]);
    expect(filter).toMatchObject({ code: 2, stdout: '' });
    expect(filter.stderr).toContain('unknown field or keyword "nw_dts" (at "nw_dts=10.0.0.1", position 4)');
    expect(filter.stderr).toMatch(/^hint: /m);
    expect(ports.code).toBe(2);
    expect(ports.stderr).toContain('"a" is not a port number');
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('"yesterday"');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no instance for "nope"');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the controller at http:\/\/127\.0\.0\.1:1[\s\S]*hint: start it/);
    expect(flow.code).toBe(2);
    expect(flow.stderr).toContain('unknown action "outptu"');
  }, 180_000);
});
