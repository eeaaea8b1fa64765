/**
 * POST /v1/instances/:vnf/ports/:port/inject (the whole app, embedded NIC):
 * the frame goes through the instance's pipeline as if it arrived on the
 * port; only the instance's own ports, only whole hex bytes, admin only.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { createApp, type ControllerApp } from '../app.module.js';
import { EmbeddedNicDriver } from '../nic/embedded-driver.js';
import { flowMod, output, VnfClient } from '../openflow/spec-helpers.js';
import { call, ephemeralConfig, TEST_TOKENS } from '../spec-app.js';
import { CoreRuntime } from './core-runtime.js';
import { INSTANCE_RUNTIME } from './instance-runtime.js';

const { config, dataDir } = ephemeralConfig('nicvisor-inject-e2e-');
/** 0a:..:01 → 0a:..:02, EtherType 0x88b5, padded to 60 bytes. */
const FRAME = Buffer.concat([Buffer.from('0a00000000020a000000000188b5', 'hex'), Buffer.alloc(46, 0x2a)]);

describe('frame injection', () => {
  let c: ControllerApp;
  beforeAll(async () => {
    c = await createApp(config, { logger: false });
    expect((await call(c, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] })).status).toBe(201);
    expect((await call(c, 'POST', '/v1/instances', { vnf: 'lb1', tenant: 'beta', ports: [3] })).status).toBe(201);
  });
  afterAll(async () => {
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const nic = () => (c.app.get<CoreRuntime>(INSTANCE_RUNTIME).driver as EmbeddedNicDriver).nic;
  const inject = (vnf: string, port: number | string, frame: unknown, token?: string) =>
    call(c, 'POST', `/v1/instances/${vnf}/ports/${port}/inject`, { frame }, token);

  it("goes through the instance's pipeline: the vNF's flow forwards it out of port 2", async () => {
    const endpoint: string = (await call(c, 'GET', '/v1/instances/fw1')).body.channel.endpoint;
    const vnf = await VnfClient.open(Number(/:(\d+)$/.exec(endpoint)![1]));
    try {
      vnf.send({ ...flowMod({ tableId: 0, priority: 9, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }), xid: vnf.xid() });
      await vnf.barrier();
      expect(vnf.errors()).toEqual([]);
    } finally {
      vnf.close();
    }
    const out: Buffer[] = [];
    const sub = nic().capture(2).subscribe((f) => out.push(f));
    const rx = (): number => nic().listPorts().find((p) => p.nicPort === 1)!.rxFrames;
    const before = rx();
    expect(await inject('fw1', 1, FRAME.toString('hex'))).toEqual({ status: 200, body: { delivered: true } });
    sub.unsubscribe();
    expect(rx()).toBe(before + 1);
    expect(out).toEqual([FRAME]);
  });

  it('says so when the NIC drops it (link down)', async () => {
    nic().setLinkDown(3, true);
    expect(await inject('lb1', 3, FRAME.toString('hex'))).toEqual({ status: 200, body: { delivered: false } });
    nic().setLinkDown(3, false);
  });

  it("refuses another vNF's port, an unknown vNF, a bad port and a frame that is not whole hex bytes of an Ethernet header or more", async () => {
    expect(await inject('fw1', 3, FRAME.toString('hex'))).toMatchObject({ status: 400, body: { field: 'port' } });
    expect(await inject('nope', 1, FRAME.toString('hex'))).toMatchObject({ status: 404 });
    expect((await inject('fw1', 'x', FRAME.toString('hex'))).status).toBe(400);
    for (const frame of ['abc', FRAME.subarray(0, 13).toString('hex'), 'zz'.repeat(20), 42]) {
      expect(await inject('fw1', 1, frame)).toMatchObject({ status: 400, body: { field: 'frame' } });
    }
  });

  it('needs an admin token', async () => {
    expect((await inject('fw1', 1, FRAME.toString('hex'), TEST_TOKENS.read)).status).toBe(403);
  });
});
