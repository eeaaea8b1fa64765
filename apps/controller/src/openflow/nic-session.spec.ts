/**
 * The NIC side against a scripted switch over TCP, behaving as Open vSwitch
 * does (HELLO, then a PORT_STATUS before the FEATURES_REPLY), to check the
 * handshake, the registry, xid correlation, multipart reassembly, errors
 * and liveness.
 */
import { connect as netConnect, Socket } from 'node:net';
import {
  decodeMessage,
  encodeMessage,
  Framer,
  OFPBRC,
  OFPCR_ROLE,
  OFPET,
  OFPMP,
  OFPMPF,
  OFPPR,
  OFPT,
  OfpMessage,
  ourHello,
} from '@nicvisor/openflow';
import { NicListener } from './nic-listener.js';
import { NicRegistry } from './nic-registry.js';
import { NicAsyncEvent, NicRequestError } from './nic-session.js';
import { sleep } from './spec-helpers.js';

const port = (n: number) => ({
  portNo: n,
  hwAddr: `02:00:00:00:00:${(n & 0xff).toString(16).padStart(2, '0')}`,
  name: n === 0xfffffffe ? 'br0' : `p${n}`,
  config: 0,
  state: 0,
  curr: 0,
  advertised: 0,
  supported: 0,
  peer: 0,
  currSpeed: 0,
  maxSpeed: 0,
});

/** A switch that answers what the handshake asks; `answer` may override. */
class ScriptedSwitch {
  readonly got: OfpMessage[] = [];
  answerEcho = true;
  constructor(
    readonly socket: Socket,
    dpid: bigint,
  ) {
    const framer = new Framer();
    socket.on('data', (c: Buffer) => {
      for (const raw of framer.push(c)) {
        const m = decodeMessage(raw);
        this.got.push(m);
        this.answer(m, dpid);
      }
    });
    socket.on('error', () => undefined);
    // As OVS: HELLO, then a PORT_STATUS for LOCAL before anything is asked.
    this.send(ourHello(1));
    this.send({ type: OFPT.PORT_STATUS, xid: 0, reason: OFPPR.ADD, desc: port(0xfffffffe) });
  }

  send(m: OfpMessage): void {
    this.socket.write(encodeMessage(m));
  }

  private answer(m: OfpMessage, dpid: bigint): void {
    switch (m.type) {
      case OFPT.FEATURES_REQUEST:
        this.send({ type: OFPT.FEATURES_REPLY, xid: m.xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f, reserved: 0 });
        return;
      case OFPT.ROLE_REQUEST:
        this.send({ type: OFPT.ROLE_REPLY, xid: m.xid, role: m.role, generationId: m.generationId });
        return;
      case OFPT.ECHO_REQUEST:
        if (this.answerEcho) this.send({ type: OFPT.ECHO_REPLY, xid: m.xid, data: m.data });
        return;
      case OFPT.BARRIER_REQUEST:
        this.send({ type: OFPT.BARRIER_REPLY, xid: m.xid });
        return;
      case OFPT.MULTIPART_REQUEST:
        if (m.body.mpType === OFPMP.PORT_DESC) {
          // Two parts: REPLY_MORE, then the rest.
          this.send({ type: OFPT.MULTIPART_REPLY, xid: m.xid, flags: OFPMPF.REPLY_MORE, body: { mpType: OFPMP.PORT_DESC, entries: [port(1)] } });
          this.send({ type: OFPT.MULTIPART_REPLY, xid: m.xid, flags: 0, body: { mpType: OFPMP.PORT_DESC, entries: [port(2), port(0xfffffffe)] } });
        } else {
          this.send({ type: OFPT.ERROR, xid: m.xid, errorType: OFPET.BAD_REQUEST, code: OFPBRC.BAD_MULTIPART, data: Buffer.alloc(8) });
        }
        return;
    }
  }
}

async function dial(p: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port: p }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('NicSession against an Open vSwitch-like switch', () => {
  let registry: NicRegistry;
  let listener: NicListener;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    registry = new NicRegistry();
    listener = new NicListener(registry, { port: 0, session: { echoIntervalMs: 100, deadAfterMs: 400 } });
    await listener.listen();
  });
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await listener.close();
    registry.close();
  });

  it('handshake with a PORT_STATUS before FEATURES_REPLY; REPLY_MORE reassembled; master role; registry waits', async () => {
    const waiting = registry.waitFor(0xabcn, 3000);
    const sock = await dial(listener.port);
    sockets.push(sock);
    const sw = new ScriptedSwitch(sock, 0xabcn);
    const events: NicAsyncEvent[] = [];
    registry.async$(0xabcn).subscribe((e) => events.push(e));
    const s = await waiting;
    expect(s.datapathId).toBe(0xabcn);
    expect([...s.ports.keys()].sort()).toEqual([1, 2, 0xfffffffe]);
    expect(s.role).toBe(OFPCR_ROLE.MASTER);
    const role = sw.got.find((m) => m.type === OFPT.ROLE_REQUEST) as { generationId: bigint };
    expect(role.generationId).toBeGreaterThan(0n);
    // The early PORT_STATUS is delivered once the session is ready.
    expect(events.map((e) => e.msg.type)).toEqual([OFPT.PORT_STATUS]);
    // A request answered with an ERROR rejects with it.
    await expect(s.multipart({ type: OFPT.MULTIPART_REQUEST, xid: 0, flags: 0, body: { mpType: OFPMP.DESC } })).rejects.toBeInstanceOf(NicRequestError);
    // Barrier confirms one-way messages sent before it.
    let confirmed = 0;
    s.send({ type: OFPT.ECHO_REPLY, xid: 0, data: Buffer.alloc(0) }, { onConfirm: () => confirmed++ });
    await s.barrier();
    expect(confirmed).toBe(1);
    // Async messages after the handshake go out on the datapath's stream.
    sw.send({ type: OFPT.PORT_STATUS, xid: 0, reason: OFPPR.DELETE, desc: port(2) });
    for (let i = 0; i < 100 && events.length < 2; i++) await sleep(10);
    expect(events).toHaveLength(2);
    expect(s.ports.has(2)).toBe(false);
  });

  it('a peer that stops answering echoes is closed; a reconnection replaces it', async () => {
    const sock = await dial(listener.port);
    sockets.push(sock);
    const sw = new ScriptedSwitch(sock, 0x77n);
    const s = await registry.waitFor(0x77n);
    sw.answerEcho = false;
    sock.pause(); // silent: nothing read, nothing sent
    const reason = await s.closed;
    expect(reason).toMatch(/silent/);
    expect(registry.get(0x77n)).toBeUndefined();
    const sock2 = await dial(listener.port);
    sockets.push(sock2);
    new ScriptedSwitch(sock2, 0x77n);
    const s2 = await registry.waitFor(0x77n);
    expect(s2).not.toBe(s);
    expect(s2.state).toBe('ready');
  });
});
