/**
 * The real `nicvisor` binary against a real controller (spawned like `npm
 * start`: embedded NIC, ephemeral ports): the operator's groups and meters,
 * flows as text with mod-flows in place, dump-ports with the NIC's
 * counters, and credentials written as files.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nicvisor, startController, type Controller } from '../../../test/interop/harness.js';

const G = 0xf0000001;
const M = 0xf0000002;

describe('nicvisor operator commands against a running controller', () => {
  let ctl: Controller;

  beforeAll(async () => {
    ctl = await startController();
    expect(await nicvisor(ctl.url, ['instance', 'create', 'fw1', '--tenant', 'acme', '--ports', '1,2'])).toMatchObject({ code: 0 });
  }, 60_000);
  afterAll(async () => {
    await ctl?.stop();
  });

  it('add-group / dump-groups / del-groups on the operator range', async () => {
    expect(await nicvisor(ctl.url, ['add-group', 'fw1', `group_id=${G},type=select,bucket=weight:2,actions=output:1,bucket=actions=output:2`])).toMatchObject({ code: 0, stderr: '' });
    const dump = await nicvisor(ctl.url, ['dump-groups', 'fw1']);
    expect(dump.stdout).toBe(`OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n group_id=${G},type=select,bucket=weight:2,actions=output:1,bucket=actions=output:2\n`);
    expect((await nicvisor(ctl.url, ['dump-groups', 'fw1', '--as-vnf'])).stdout).toBe('OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n');

    const outside = await nicvisor(ctl.url, ['add-group', 'fw1', 'group_id=5,type=all,bucket=actions=output:1']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain("groupId 5 (0x5) is outside the operator's reserved range 0xf0000000-0xffffff00");
    const exists = await nicvisor(ctl.url, ['add-group', 'fw1', `group_id=${G},type=all,bucket=actions=output:1`]);
    expect(exists.code).toBe(1);
    expect(exists.stderr).toContain('OFPET_GROUP_MOD_FAILED/OFPGMFC_GROUP_EXISTS');

    await nicvisor(ctl.url, ['add-group', 'fw1', `group_id=${G + 1},type=all,bucket=actions=output:2`]);
    expect(await nicvisor(ctl.url, ['del-groups', 'fw1', `group_id=${G}`])).toMatchObject({ code: 0 });
    expect((await nicvisor(ctl.url, ['dump-groups', 'fw1'])).stdout).toBe(`OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n group_id=${G + 1},type=all,bucket=actions=output:2\n`);
    expect(await nicvisor(ctl.url, ['del-groups', 'fw1'])).toMatchObject({ code: 0 });
    expect((await nicvisor(ctl.url, ['dump-groups', 'fw1'])).stdout).toBe('OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n');
  }, 120_000);

  it('add-meter / dump-meters / del-meters on the operator range', async () => {
    expect(await nicvisor(ctl.url, ['add-meter', 'fw1', `meter=${M},kbps,burst,bands=type=drop,rate=1000,burst_size=100`])).toMatchObject({ code: 0, stderr: '' });
    expect((await nicvisor(ctl.url, ['dump-meters', 'fw1'])).stdout).toBe(`OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\nmeter=${M} kbps burst bands=\ntype=drop rate=1000 burst_size=100\n`);
    const outside = await nicvisor(ctl.url, ['add-meter', 'fw1', 'meter=1,kbps,bands=type=drop,rate=10']);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain('meterId 1 (0x1) is outside');
    expect(await nicvisor(ctl.url, ['del-meters', 'fw1', `meter=${M}`])).toMatchObject({ code: 0 });
    expect((await nicvisor(ctl.url, ['dump-meters', 'fw1'])).stdout).toBe('OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\n');
  }, 120_000);

  it('add-flow / mod-flows (in place) / del-flows as text', async () => {
    expect(await nicvisor(ctl.url, ['add-flow', 'fw1', 'table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:1'])).toMatchObject({ code: 0, stderr: '' });
    const strict = await nicvisor(ctl.url, ['mod-flows', 'fw1', '--strict', 'priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:2']);
    expect(strict).toMatchObject({ code: 0, stdout: 'modified 1 flow\n' });
    const loose = await nicvisor(ctl.url, ['mod-flows', 'fw1', 'in_port=2,actions=goto_table:3']);
    expect(loose).toMatchObject({ code: 0, stdout: 'modified 1 flow\n' });
    expect((await nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats', 'table=0'])).stdout.split('\n').filter(Boolean)).toEqual([
      ' cookie=0x6e76000000000000, priority=100,ip,nw_dst=10.0.0.0/24 actions=goto_table:2',
      ' cookie=0x6e76000000000001, priority=1,in_port=1 actions=goto_table:1',
      ' cookie=0x6e76000000000001, priority=1,in_port=2 actions=goto_table:3',
    ]);
    const bad = await nicvisor(ctl.url, ['mod-flows', 'fw1', 'table=4,in_port=2,actions=drop']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('table 4 is not one of the operator');
    expect(await nicvisor(ctl.url, ['del-flows', 'fw1', 'ip'])).toMatchObject({ code: 0 });
    expect((await nicvisor(ctl.url, ['dump-flows', 'fw1', '--no-stats', 'table=0,ip'])).stdout).toBe('');
  }, 120_000);

  it('dump-ports prints the counters the NIC reports, in ovs-ofctl format', async () => {
    const all = await nicvisor(ctl.url, ['dump-ports', 'fw1']);
    expect(all.code).toBe(0);
    expect(all.stdout).not.toContain('?');
    const lines = all.stdout.split('\n');
    expect(lines[0]).toBe('OFPST_PORT reply (OF1.3) (xid=0x2): 2 ports');
    expect(lines[1]).toBe('  port  1: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0');
    expect(lines[2]).toBe('           tx pkts=0, bytes=0, drop=0, errs=0, coll=0');
    expect(lines[3]).toMatch(/^ {11}duration=\d+(\.\d+)?s$/);
    expect(lines[4]).toBe('  port  2: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0');
    const one = await nicvisor(ctl.url, ['dump-ports', 'fw1', '2']);
    expect(one.stdout.split('\n').slice(0, 2)).toEqual(['OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports', '  port  2: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0']);
    const json = await nicvisor(ctl.url, ['dump-ports', 'fw1', '1', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ portNo: 1, rxPackets: '0', txBytes: '0', durationSec: expect.any(Number) });
    const missing = await nicvisor(ctl.url, ['dump-ports', 'fw1', '9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no port 9');
  }, 120_000);

  it('credentials vnf / node write a key (0600), a certificate of the CA and the CA; an existing key is not replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nicvisor-creds-'));
    try {
      const r = await nicvisor(ctl.url, ['credentials', 'vnf', 'fw1', '--out', dir]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('identity:  urn:nicvisor:vnf:fw1');
      expect(statSync(join(dir, 'fw1.key')).mode & 0o777).toBe(0o600);
      const cert = new X509Certificate(readFileSync(join(dir, 'fw1.crt')));
      const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.subjectAltName).toContain('URI:urn:nicvisor:vnf:fw1');
      expect(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'fw1.key'))))).toBe(true);

      const again = await nicvisor(ctl.url, ['credentials', 'vnf', 'fw1', '--out', dir]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('fw1.key exists: not replaced');

      expect(await nicvisor(ctl.url, ['credentials', 'node', 'node1', '--out', dir])).toMatchObject({ code: 0, stderr: '' });
      expect(new X509Certificate(readFileSync(join(dir, 'node1.crt'))).subjectAltName).toContain('URI:urn:nicvisor:node:node1');
      expect(await nicvisor(ctl.url, ['credentials', 'revoke-node', 'node1'])).toMatchObject({ code: 0, stdout: 'revoked 1 certificate of node node1\n' });

      const unknown = await nicvisor(ctl.url, ['credentials', 'vnf', 'nope', '--out', dir]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('no instance for "nope"');
      const nowhere = await nicvisor(ctl.url, ['credentials', 'vnf', 'fw1']);
      expect(nowhere.code).toBe(2);
      expect(nowhere.stderr).toContain('--out DIR');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
