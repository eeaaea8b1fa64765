import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, connect as netConnect, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestMicroservice } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { decodeMessage, encodeMessage, FlowMod, Framer, OFPT, OfpMessage, ourHello } from '@nicvisor/openflow';
import { readPcapFile, writePcap } from '@nicvisor/softswitch/pcap.js';
import { NIC_PATTERNS } from './smartnic.constants.js';
import type { InstanceView, PortView } from './smartnic.dto.js';
import { SmartnicModule } from './smartnic.module.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An OpenFlow controller over TCP to one instance's listener. */
class Controller {
  readonly got: OfpMessage[] = [];
  private readonly framer = new Framer();
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c)) this.got.push(decodeMessage(raw));
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<Controller> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({ host: '127.0.0.1', port }, () => resolve(sock));
      sock.once('error', reject);
    });
    const c = new Controller(s);
    s.write(encodeMessage(ourHello(1)));
    await c.waitFor((m) => m.type === OFPT.HELLO);
    return c;
  }

  async waitFor(pred: (m: OfpMessage) => boolean, ms = 3000): Promise<OfpMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.got.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error('timed out waiting for an OpenFlow message');
      await sleep(5);
    }
  }

  /** in_port=IN, actions=output:OUT, acknowledged by a barrier. */
  async flow(inPort: number, outPort: number): Promise<void> {
    const fm: FlowMod = {
      type: OFPT.FLOW_MOD,
      xid: 10,
      cookie: 0n,
      cookieMask: 0n,
      tableId: 0,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: 100,
      bufferId: 0xffffffff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      flags: 0,
      match: [{ field: 'in_port', value: inPort }],
      instructions: [{ type: 4, actions: [{ type: 0, port: outPort, maxLen: 0 }] }],
    };
    this.socket.write(Buffer.concat([encodeMessage(fm), encodeMessage({ type: OFPT.BARRIER_REQUEST, xid: 11 })]));
    await this.waitFor((m) => m.type === OFPT.BARRIER_REPLY && m.xid === 11);
    expect(this.got.filter((m) => m.type === OFPT.ERROR)).toEqual([]);
  }
}

const frame = (tag: number) => Buffer.concat([Buffer.from('222222222222121111111111' + '88b5', 'hex'), Buffer.alloc(46, tag)]);

describe('smartnic app (NestJS TCP microservice)', () => {
  let app: INestMicroservice;
  let client: ClientProxy;
  let dir: string;
  const controllers: Controller[] = [];

  const call = <T>(pattern: string, data: unknown = {}) => firstValueFrom(client.send<T>(pattern, data));
  const refused = async (pattern: string, data: unknown) => {
    try {
      await call(pattern, data);
    } catch (e) {
      return e as { status: string; code: string; message: string };
    }
    throw new Error(`${pattern} was not refused`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smartnic-'));
    const moduleRef = await Test.createTestingModule({ imports: [SmartnicModule.forRoot({ nicPorts: 6, tickIntervalMs: 0 })] }).compile();
    app = moduleRef.createNestMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } });
    app.useLogger(false);
    await app.listen();
    const port = (app.unwrap<Server>().address() as AddressInfo).port;
    expect(port).toBeGreaterThan(0);
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });

  afterAll(async () => {
    for (const c of controllers) c.socket.destroy();
    await client?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates instances, each with its own OpenFlow listener', async () => {
    const a = await call<InstanceView>(NIC_PATTERNS.INSTANCE_CREATE, { datapathId: '1', ports: [1, 2], listen: { port: 0 } });
    const b = await call<InstanceView>(NIC_PATTERNS.INSTANCE_CREATE, {
      datapathId: '0x2',
      ports: [
        { nicPort: 3, portNo: 1 },
        { nicPort: 4, portNo: 2 },
      ],
      nTables: 4,
      listen: { port: 0 },
    });
    expect(a).toMatchObject({ datapathId: '0x0000000000000001', nTables: 8, ports: [{ nicPort: 1, portNo: 1 }, { nicPort: 2, portNo: 2 }] });
    expect(b).toMatchObject({ datapathId: '0x0000000000000002', nTables: 4 });
    expect(a.channel.listen!.port).toBeGreaterThan(0);
    expect(b.channel.listen!.port).not.toBe(a.channel.listen!.port);
    const list = await call<InstanceView[]>(NIC_PATTERNS.INSTANCE_LIST);
    expect(list.map((i) => i.datapathId)).toEqual(['0x0000000000000001', '0x0000000000000002']);

    const ctlA = await Controller.open(a.channel.listen!.port);
    const ctlB = await Controller.open(b.channel.listen!.port);
    controllers.push(ctlA, ctlB);
    // FEATURES_REPLY tells each controller its own datapath.
    ctlA.socket.write(encodeMessage({ type: OFPT.FEATURES_REQUEST, xid: 5 }));
    ctlB.socket.write(encodeMessage({ type: OFPT.FEATURES_REQUEST, xid: 5 }));
    expect(await ctlA.waitFor((m) => m.type === OFPT.FEATURES_REPLY)).toMatchObject({ datapathId: 1n });
    expect(await ctlB.waitFor((m) => m.type === OFPT.FEATURES_REPLY)).toMatchObject({ datapathId: 2n });
    await ctlA.flow(1, 2);
    await ctlB.flow(1, 2);
  });

  it('injects frames and captures each port to a pcap file', async () => {
    const out2 = join(dir, 'port2.pcap');
    const out4 = join(dir, 'port4.pcap');
    await call(NIC_PATTERNS.PCAP_CAPTURE_START, { nicPort: 2, path: out2 });
    await call(NIC_PATTERNS.PCAP_CAPTURE_START, { nicPort: 4, path: out4 });
    expect(await call(NIC_PATTERNS.FRAME_INJECT, { nicPort: 1, frame: frame(1).toString('hex') })).toEqual({ delivered: true });
    // Replaying a pcap file on NIC port 3 goes through instance 2.
    const input = join(dir, 'in.pcap');
    writeFileSync(input, writePcap([3, 4, 5].map((n) => ({ sec: n, nsec: 0, data: frame(n), origLen: 60 }))));
    expect(await call(NIC_PATTERNS.PCAP_REPLAY, { nicPort: 3, path: input })).toEqual({ frames: 3, delivered: 3 });
    expect(await call(NIC_PATTERNS.PCAP_CAPTURE_STOP, { nicPort: 2 })).toEqual({ nicPort: 2, path: out2, frames: 1 });
    expect(await call(NIC_PATTERNS.PCAP_CAPTURE_STOP, { nicPort: 4 })).toEqual({ nicPort: 4, path: out4, frames: 3 });
    expect(readPcapFile(out2).records.map((r) => r.data)).toEqual([frame(1)]);
    expect(readPcapFile(out4).records.map((r) => r.data)).toEqual([frame(3), frame(4), frame(5)]);
    const ports = await call<PortView[]>(NIC_PATTERNS.PORT_LIST);
    expect(ports[1]).toMatchObject({ nicPort: 2, owner: '0x0000000000000001', portNo: 2, txFrames: 1, capturing: null });
  });

  it('attaches and detaches ports, announcing them on the OpenFlow channel', async () => {
    const view = await call<InstanceView>(NIC_PATTERNS.PORT_ATTACH, { datapathId: 1, nicPort: 5, portNo: 3 });
    expect(view.ports).toEqual([
      { nicPort: 1, portNo: 1 },
      { nicPort: 2, portNo: 2 },
      { nicPort: 5, portNo: 3 },
    ]);
    await controllers[0].waitFor((m) => m.type === OFPT.PORT_STATUS && m.reason === 0 && m.desc.portNo === 3);
    expect(await call(NIC_PATTERNS.PORT_DETACH, { nicPort: 5 })).toEqual({ detached: 5 });
    await controllers[0].waitFor((m) => m.type === OFPT.PORT_STATUS && m.reason === 1 && m.desc.portNo === 3);
    expect(controllers[1].got.some((m) => m.type === OFPT.PORT_STATUS)).toBe(false);
  });

  it('answers refused requests with a code and a message', async () => {
    expect(await refused(NIC_PATTERNS.INSTANCE_CREATE, { datapathId: 1, ports: [6] })).toMatchObject({ status: 'error', code: 'EXISTS' });
    expect(await refused(NIC_PATTERNS.INSTANCE_CREATE, { datapathId: 9, ports: [1] })).toMatchObject({ code: 'PORT_IN_USE' });
    expect(await refused(NIC_PATTERNS.INSTANCE_CREATE, { datapathId: 'x' })).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/datapath id/) });
    expect(await refused(NIC_PATTERNS.INSTANCE_DESTROY, { datapathId: 77 })).toMatchObject({ code: 'NO_SUCH_INSTANCE' });
    expect(await refused(NIC_PATTERNS.FRAME_INJECT, { nicPort: 99, frame: frame(0).toString('hex') })).toMatchObject({ code: 'NO_SUCH_PORT' });
    expect(await refused(NIC_PATTERNS.FRAME_INJECT, { nicPort: 1, frame: 'zz' })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await refused(NIC_PATTERNS.PCAP_REPLAY, { nicPort: 1, path: join(dir, 'missing.pcap') })).toMatchObject({ code: 'BAD_ARGUMENT' });
    expect(await refused(NIC_PATTERNS.PORT_DETACH, { nicPort: 6 })).toMatchObject({ code: 'PORT_NOT_ATTACHED' });
    // A refused create left nothing behind.
    expect((await call<InstanceView[]>(NIC_PATTERNS.INSTANCE_LIST)).map((i) => i.datapathId)).toEqual(['0x0000000000000001', '0x0000000000000002']);
  });

  it('destroying one instance closes its channel and leaves the other forwarding', async () => {
    const [ctlA, ctlB] = controllers;
    expect(await call(NIC_PATTERNS.INSTANCE_DESTROY, { datapathId: '00:00:00:00:00:00:00:02' })).toEqual({ destroyed: '0x0000000000000002' });
    await new Promise<void>((resolve) => (ctlB.socket.closed ? resolve() : ctlB.socket.once('close', () => resolve())));
    expect(await call(NIC_PATTERNS.FRAME_INJECT, { nicPort: 3, frame: frame(3).toString('hex') })).toEqual({ delivered: false });
    const out2 = join(dir, 'again.pcap');
    await call(NIC_PATTERNS.PCAP_CAPTURE_START, { nicPort: 2, path: out2 });
    expect(await call(NIC_PATTERNS.FRAME_INJECT, { nicPort: 1, frame: frame(7).toString('hex') })).toEqual({ delivered: true });
    await call(NIC_PATTERNS.PCAP_CAPTURE_STOP, { nicPort: 2 });
    expect(readPcapFile(out2).records).toHaveLength(1);
    ctlA.socket.write(encodeMessage({ type: OFPT.ECHO_REQUEST, xid: 77, data: Buffer.alloc(0) }));
    await ctlA.waitFor((m) => m.type === OFPT.ECHO_REPLY && m.xid === 77);
  });
});
