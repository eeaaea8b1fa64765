/**
 * Open vSwitch 3.1 as the smart-NIC: the controller runs as a real process
 * with NICVISOR_NIC=ovs:unix:…/db.sock against a private Open vSwitch (in
 * its own network namespace, so it dials the controller's NIC listener on
 * the unix socket beside db.sock). Each instance created over REST becomes a
 * bridge; ovs-ofctl, as a vNF on its delegated channel, programs its view's
 * table 1, which lands in the bridge's physical table 2 behind the
 * operator's table-0 steering (checked on the bridge itself with ovs-ofctl
 * and ofproto/trace). What the tenant does not own is refused with the
 * OpenFlow error ovs-ofctl prints, the bridges untouched. Deleting an
 * instance deletes its bridge. Without Open vSwitch the test is skipped (it
 * fails when CI=true).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../../apps/controller/src/spec-app.js';
import { type Controller, flowLines, have, type OvsDaemons, ovsOfctl, peerMissing, startController, startOvsDaemons } from './harness.js';

const OVS = have('ovs-vswitchd') && have('ovs-vsctl') && have('ovs-ofctl') && have('ovs-appctl') && have('ovsdb-server') && have('unshare');

interface Created {
  datapathId: string;
  channel: { endpoint: string };
}

if (!OVS) {
  peerMissing('Open vSwitch (ovs-vswitchd, ovs-vsctl, ovs-ofctl, ovs-appctl)', 'apt-get install -y openvswitch-switch');
} else {
  describe('Open vSwitch 3.1 as the NIC', () => {
    let ovs: OvsDaemons;
    let ctl: Controller;
    let dataDir: string;
    const env = (): NodeJS.ProcessEnv => ({ NICVISOR_NIC: `ovs:${ovs.db}` });
    let fw: Created;
    let lb: Created;

    const api = (method: string, path: string, body?: unknown) => call(ctl.url, method, `/v1${path}`, body);
    const bridgeOf = (c: Created): string => `nvbr${BigInt(`0x${c.datapathId}`).toString(16)}`;
    const bridges = (): string[] => ovs.vsctl(['list-br']).split('\n').filter((l) => l !== '');
    const dump = (c: Created): string[] => {
      const r = ovsOfctl(['dump-flows', '--no-stats', '--no-names', ovs.mgmt(bridgeOf(c))]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      return flowLines(r.stdout);
    };

    beforeAll(async () => {
      ovs = startOvsDaemons();
      // No NICVISOR_OF_UNIX: with an ovs:unix: NIC the listener's socket goes beside db.sock, in OVS's run directory.
      dataDir = mkdtempSync(join(tmpdir(), 'nicvisor-ovs-nic-'));
      ctl = await startController({ dataDir, env: env() });
      const a = await api('POST', '/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
      expect(a.status).toBe(201);
      fw = a.body as Created;
      const b = await api('POST', '/instances', { vnf: 'lb1', tenant: 'globex', ports: [3, 4] });
      expect(b.status).toBe(201);
      lb = b.body as Created;
    }, 90_000);

    afterAll(async () => {
      await ctl?.stop();
      ovs?.stop();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    });

    it('creates one bridge per instance, configured through OVSDB, connected to nicvisor over the unix socket', async () => {
      expect(existsSync(`${ovs.rundir}/nicvisor-of.sock`)).toBe(true);
      for (const vnf of ['fw1', 'lb1']) expect((await api('GET', `/instances/${vnf}`)).body).toMatchObject({ vnf, connected: true });
      expect(bridges()).toEqual([bridgeOf(fw), bridgeOf(lb)].sort());
      for (const [c, ports] of [
        [fw, [1, 2]],
        [lb, [3, 4]],
      ] as const) {
        const br = bridgeOf(c);
        const get = (col: string): string => ovs.vsctl(['get', 'Bridge', br, col]).trim();
        expect(get('datapath_type')).toBe('netdev');
        expect(get('protocols')).toBe('[OpenFlow13]');
        expect(get('fail_mode')).toBe('secure');
        expect(get('other_config:datapath-id')).toBe(`"${c.datapathId}"`);
        expect(ovs.vsctl(['get-controller', br]).trim()).toBe(`unix:${ovs.rundir}/nicvisor-of.sock`);
        // The instance's port numbers are the NIC's: ofport_request held.
        const show = ovsOfctl(['show', ovs.mgmt(br)]);
        expect(show.code).toBe(0);
        expect(show.stdout).toContain(`dpid:${c.datapathId}`);
        for (const p of ports) expect(show.stdout).toContain(` ${p}(nvp${p}): `);
      }
      const fwShow = ovsOfctl(['show', ovs.mgmt(bridgeOf(fw))]).stdout;
      expect(fwShow).not.toContain('(nvp3)');
    });

    it("the operator's steering is in table 0 of the bridge", () => {
      const flows = dump(fw);
      expect(flows).toEqual(expect.arrayContaining([expect.stringMatching(/^cookie=0x[0-9a-f]+, priority=1,in_port=1 actions=goto_table:1$/), expect.stringMatching(/^cookie=0x[0-9a-f]+, priority=1,in_port=2 actions=goto_table:1$/)]));
      expect(flows).toHaveLength(2);
    });

    it("a vNF's add-flow through its delegated channel lands in the tenant's physical table, and ofproto/trace follows it", () => {
      const ch = fw.channel.endpoint;
      expect(ovsOfctl(['add-flow', ch, 'table=0,priority=0,actions=goto_table:1'])).toMatchObject({ code: 0, stderr: '' });
      expect(ovsOfctl(['add-flow', ch, 'table=1,priority=10,ip,nw_dst=10.0.0.1,actions=output:2'])).toMatchObject({ code: 0, stderr: '' });

      const flows = dump(fw);
      expect(flows).toContain('table=1, priority=0 actions=goto_table:2');
      expect(flows).toContain('table=2, priority=10,ip,nw_dst=10.0.0.1 actions=output:2');
      // The vNF sees the same flows in its own numbering.
      expect(flowLines(ovsOfctl(['dump-flows', '--no-stats', '--no-names', ch]).stdout)).toEqual(['priority=0 actions=goto_table:1', 'table=1, priority=10,ip,nw_dst=10.0.0.1 actions=output:2']);
      // The other bridge got nothing.
      expect(dump(lb)).toHaveLength(2);

      const trace = ovs.appctl(['ofproto/trace', bridgeOf(fw), 'in_port=1,ip,nw_dst=10.0.0.1']);
      expect(trace.code).toBe(0);
      const steps = trace.stdout.split('\n').filter((l) => /^ *\d+\. |^ *(goto_table|output):/.test(l)).map((l) => l.trim());
      expect(steps).toEqual([
        expect.stringMatching(/^0\. in_port=1, priority 1, cookie 0x[0-9a-f]+$/),
        'goto_table:1',
        '1. priority 0',
        'goto_table:2',
        '2. ip,nw_dst=10.0.0.1, priority 10',
        'output:2',
      ]);
    });

    it('refuses what the tenant does not own with the error ovs-ofctl prints, the bridges unchanged', () => {
      const before = [dump(fw), dump(lb)];
      const ch = fw.channel.endpoint;

      const otherPort = ovsOfctl(['add-flow', ch, 'table=1,priority=20,ip,nw_dst=10.0.0.2,actions=output:3']);
      expect(otherPort.code).not.toBe(0);
      expect(otherPort.stderr).toMatch(/^OFPT_ERROR \(OF1\.3\) \(xid=0x[0-9a-f]+\): OFPBAC_BAD_OUT_PORT$/m);

      const otherTable = ovsOfctl(['add-flow', ch, 'table=100,priority=20,ip,actions=drop']);
      expect(otherTable.code).not.toBe(0);
      expect(otherTable.stderr).toMatch(/^OFPT_ERROR \(OF1\.3\) \(xid=0x[0-9a-f]+\): OFPFMFC_BAD_TABLE_ID$/m);

      expect([dump(fw), dump(lb)]).toEqual(before);
    });

    it('after a controller restart the bridges reconnect with their flows, and the vNF finds its channel again', async () => {
      const before = [dump(fw), dump(lb)];
      const stoppedAt = Date.now();
      await ctl.stop();
      expect(bridges()).toEqual([bridgeOf(fw), bridgeOf(lb)].sort());
      ctl = await startController({ dataDir, env: env() });
      for (const vnf of ['fw1', 'lb1']) expect((await api('GET', `/instances/${vnf}`)).body).toMatchObject({ vnf, connected: true });
      expect([dump(fw), dump(lb)]).toEqual(before);
      // Reconciliation recognised every flow Open vSwitch reported: none was reinstalled (each one's age spans the restart).
      const downFor = (Date.now() - stoppedAt) / 1000;
      for (const c of [fw, lb]) {
        const ages = [...ovsOfctl(['dump-flows', '--no-names', ovs.mgmt(bridgeOf(c))]).stdout.matchAll(/duration=([\d.]+)s/g)].map((m) => Number(m[1]));
        expect(ages).toHaveLength(before[c === fw ? 0 : 1]!.length);
        for (const age of ages) expect(age).toBeGreaterThanOrEqual(downFor - 0.5);
      }
      expect(flowLines(ovsOfctl(['dump-flows', '--no-stats', '--no-names', fw.channel.endpoint]).stdout)).toEqual(['priority=0 actions=goto_table:1', 'table=1, priority=10,ip,nw_dst=10.0.0.1 actions=output:2']);
    });

    it('attaching and detaching a NIC port adds and deletes its bridge port, under the same number', async () => {
      const vnfPorts = (): number[] =>
        [...ovsOfctl(['dump-ports-desc', fw.channel.endpoint]).stdout.matchAll(/^ (\d+)\(/gm)].map((m) => Number(m[1]));
      const steering = (): string[] => dump(fw).filter((l) => !l.includes('table='));

      expect((await api('PATCH', '/instances/fw1', { ports: [1, 2, 5] })).status).toBe(200);
      expect(ovsOfctl(['show', ovs.mgmt(bridgeOf(fw))]).stdout).toContain(' 5(nvp5): ');
      expect(steering()).toEqual(expect.arrayContaining([expect.stringMatching(/ priority=1,in_port=5 actions=goto_table:1$/)]));
      expect(vnfPorts()).toEqual([1, 2, 5]);

      expect((await api('PATCH', '/instances/fw1', { ports: [1, 2] })).status).toBe(200);
      expect(ovs.vsctl(['list-ports', bridgeOf(fw)]).split('\n').filter((l) => l !== '')).toEqual(['nvp1', 'nvp2']);
      expect(steering()).toHaveLength(2);
      expect(vnfPorts()).toEqual([1, 2]);
    });

    it('deleting an instance deletes its bridge', async () => {
      expect((await api('DELETE', '/instances/fw1')).status).toBeLessThan(300);
      expect(bridges()).toEqual([bridgeOf(lb)]);
      expect((await api('DELETE', '/instances/lb1')).status).toBeLessThan(300);
      expect(bridges()).toEqual([]);
    });
  });
}
