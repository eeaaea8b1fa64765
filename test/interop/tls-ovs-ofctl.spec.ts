/**
 * Open vSwitch's own TLS client against a delegated channel: an instance
 * created with `"channel": {"tls": true}` listens on an ssl: endpoint;
 * `ovs-ofctl --private-key/--certificate/--ca-cert` with the vNF's
 * credentials (POST /v1/instances/:vnf/credentials) adds and dumps its flows
 * there, as it would against an `ssl:` switch; with another vNF's
 * credentials it gets nothing and the refusal is audited. After a restart
 * of the controller (same data directory) the same credentials still work.
 * Without ovs-ofctl the test is skipped (it fails when CI=true).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../../apps/controller/src/spec-app.js';
import { type Controller, have, ovsOfctl, peerMissing, startController } from './harness.js';


if (!have('ovs-ofctl')) {
  peerMissing('ovs-ofctl', 'apt-get install -y openvswitch-common');
} else {
  describe('ovs-ofctl against an ssl: delegated channel', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nicvisor-tls-ofctl-'));
    const files = mkdtempSync(join(tmpdir(), 'nicvisor-tls-ofctl-pem-'));
    let ctl: Controller;
    let endpoint: string;
    const pki: Record<string, string[]> = {};

    /** The vNF's credentials as the three files ovs-ofctl takes. */
    async function credentialFiles(vnf: string): Promise<string[]> {
      const r = await call(ctl.url, 'POST', `/v1/instances/${vnf}/credentials`);
      expect(r.status).toBe(201);
      const write = (name: string, text: string): string => {
        writeFileSync(join(files, name), text, { mode: 0o600 });
        return join(files, name);
      };
      return [`--private-key=${write(`${vnf}.key`, r.body.key)}`, `--certificate=${write(`${vnf}.crt`, r.body.cert)}`, `--ca-cert=${write('ca.crt', r.body.ca)}`];
    }

    async function tlsAudits(vnf: string): Promise<Array<{ result: string; detail: string }>> {
      const r = await call(ctl.url, 'GET', `/v1/audit?vnf=${vnf}`);
      return (r.body as Array<{ action: string; result: string; detail: string }>).filter((e) => e.action === 'openflow.tls-handshake');
    }

    beforeAll(async () => {
      ctl = await startController({ dataDir });
      for (const [vnf, ports] of [['tls1', [1, 2]], ['tls2', [3]]] as const) {
        const r = await call(ctl.url, 'POST', '/v1/instances', { vnf, tenant: 'interop', ports, channel: { mode: 'listen', tls: true } });
        expect(r.status).toBe(201);
        if (vnf === 'tls1') endpoint = r.body.channel.endpoint;
        pki[vnf] = await credentialFiles(vnf);
      }
      expect(endpoint).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    }, 90_000);

    afterAll(async () => {
      await ctl?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(files, { recursive: true, force: true });
    });

    it("add-flow and dump-flows with the vNF's certificate", () => {
      const add = ovsOfctl([...pki.tls1!, 'add-flow', endpoint, 'table=0,priority=10,ip,nw_dst=10.0.0.1,actions=output:2']);
      expect(add).toMatchObject({ code: 0, stderr: '' });
      const dump = ovsOfctl([...pki.tls1!, 'dump-flows', '--no-stats', endpoint]);
      expect(dump.code).toBe(0);
      expect(dump.stdout).toContain('priority=10,ip,nw_dst=10.0.0.1 actions=output:2');
    });

    it("another vNF's certificate gets nothing, and the refusal is audited", async () => {
      const before = await tlsAudits('tls1');
      const r = ovsOfctl([...pki.tls2!, 'add-flow', endpoint, 'table=0,priority=11,actions=drop']);
      expect(r.code).not.toBe(0);
      const deadline = Date.now() + 5000;
      while ((await tlsAudits('tls1')).length === before.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      const last = (await tlsAudits('tls1')).at(-1);
      expect(last).toMatchObject({ result: 'denied', detail: expect.stringMatching(/is for vnf "tls2", not vnf "tls1"/) });
      const dump = ovsOfctl([...pki.tls1!, 'dump-flows', '--no-stats', endpoint]);
      expect(dump.stdout).not.toContain('priority=11');
    });

    it('after a restart: the same endpoint, still TLS, the same credentials work and the flow is there', async () => {
      await ctl.stop();
      ctl = await startController({ dataDir });
      const got = await call(ctl.url, 'GET', '/v1/instances/tls1');
      expect(got.body.channel).toEqual({ mode: 'listen', endpoint, tls: true });
      const dump = ovsOfctl([...pki.tls1!, 'dump-flows', '--no-stats', endpoint]);
      expect(dump).toMatchObject({ code: 0 });
      expect(dump.stdout).toContain('priority=10,ip,nw_dst=10.0.0.1 actions=output:2');
    }, 90_000);
  });
}
