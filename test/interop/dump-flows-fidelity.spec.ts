/**
 * Format fidelity against the real tool: the same ~50 diverse flows (and
 * groups, meters) go into a private Open vSwitch 3.1 bridge with
 * `ovs-ofctl -O OpenFlow13 add-flows` and into a nicvisor instance through
 * its delegated channel (ovs-ofctl again, as the vNF); `nicvisor dump-flows
 * VNF --as-vnf --no-stats` must print what `ovs-ofctl dump-flows --no-stats`
 * prints, line for line (sorted), and so must the physical view once the
 * operator's table-0 flows are left out and table ids shifted back.
 * Without Open vSwitch the test is skipped (it fails when CI=true).
 */
import { CORPUS_GROUPS, CORPUS_METERS, FLOW_CORPUS } from '@nicvisor/openflow/text/testing/flow-corpus.js';
import { type Controller, flowLines, have, nicvisor, type Ovs, ovsOfctl, peerMissing, startController, startOvs, tempFile } from './harness.js';

const OVS = have('ovs-vswitchd') && have('ovs-ofctl') && have('ovsdb-server') && have('unshare');

if (!OVS) {
  peerMissing('Open vSwitch (ovs-vswitchd, ovs-ofctl)', 'apt-get install -y openvswitch-switch');
} else {
  describe('dump-flows fidelity against Open vSwitch 3.1', () => {
    let ovs: Ovs;
    let ctl: Controller;
    let endpoint: string;
    const VNF = 'fidelity';

    beforeAll(async () => {
      ovs = startOvs();
      ctl = await startController();
      const created = await nicvisor(ctl.url, ['instance', 'create', VNF, '--tenant', 'interop', '--ports', '1,2', '--json']);
      expect(created.stderr).toBe('');
      endpoint = (JSON.parse(created.stdout) as { channel: { endpoint: string } }).channel.endpoint;
      for (const target of [ovs.target, endpoint]) {
        for (const g of CORPUS_GROUPS) expect(ovsOfctl(['add-group', target, g])).toMatchObject({ code: 0 });
        for (const m of CORPUS_METERS) expect(ovsOfctl(['add-meter', target, m])).toMatchObject({ code: 0 });
        const r = ovsOfctl(['add-flows', target, tempFile('flows.txt', FLOW_CORPUS)]);
        expect(r).toMatchObject({ code: 0, stderr: '' });
      }
    }, 90_000);

    afterAll(async () => {
      ovs?.stop();
      await ctl?.stop();
    });

    function compare(name: string, ours: string[], theirs: string[]): void {
      const theirSet = new Set(theirs);
      const same = ours.filter((l) => theirSet.has(l)).length;
      process.stdout.write(`fidelity ${name}: ${same}/${theirs.length} identical lines (nicvisor ${ours.length})\n`);
      expect(ours).toEqual(theirs);
    }

    it('--as-vnf --no-stats is identical to ovs-ofctl dump-flows --no-stats', async () => {
      const theirs = flowLines(ovsOfctl(['dump-flows', '--no-stats', ovs.target]).stdout);
      expect(theirs).toHaveLength(FLOW_CORPUS.length);
      const r = await nicvisor(ctl.url, ['dump-flows', VNF, '--as-vnf', '--no-stats']);
      expect(r.code).toBe(0);
      compare('vnf view', flowLines(r.stdout), theirs);
    });

    it('the physical view is identical once the operator flows are left out and table ids shifted', async () => {
      const theirs = flowLines(ovsOfctl(['dump-flows', '--no-stats', ovs.target]).stdout);
      const r = await nicvisor(ctl.url, ['dump-flows', VNF, '--no-stats', '--owner']);
      expect(r.code).toBe(0);
      const shift = (n: string): number => Number(n) - 1;
      const ours = r.stdout
        .split('\n')
        .filter((l) => l.includes('owner=tenant:interop, '))
        .map((l) =>
          l
            .replace(/^\s*owner=tenant:interop, /, '')
            .replace(/(^|, )table=(\d+), /, (_m, pre: string, n: string) => (shift(n) === 0 ? pre : `${pre}table=${shift(n)}, `))
            .replace(/goto_table:(\d+)/g, (_m, n: string) => `goto_table:${shift(n)}`)
            .trim(),
        )
        .sort();
      compare('physical view', ours, theirs);
    });

    it('the vNF view of the same flows through the delegated channel (ovs-ofctl) is identical too', () => {
      const theirs = flowLines(ovsOfctl(['dump-flows', '--no-stats', ovs.target]).stdout);
      compare('delegated channel', flowLines(ovsOfctl(['dump-flows', '--no-stats', endpoint]).stdout), theirs);
    });

    it('dump-groups and dump-meters --as-vnf print what ovs-ofctl prints', async () => {
      const groups = await nicvisor(ctl.url, ['dump-groups', VNF, '--as-vnf']);
      compare('groups', flowLines(groups.stdout), flowLines(ovsOfctl(['dump-groups', ovs.target]).stdout));
      const meters = await nicvisor(ctl.url, ['dump-meters', VNF, '--as-vnf']);
      compare('meters', flowLines(meters.stdout), flowLines(ovsOfctl(['dump-meters', ovs.target]).stdout));
    });
  });
}
