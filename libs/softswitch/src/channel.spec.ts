import { createServer, Server, Socket, connect as netConnect } from 'node:net';
import { decodeMessage, encodeMessage, Framer, OFPT, OfpMessage, ourHello } from '@nicvisor/openflow';
import { ChannelEvent, ChannelSession, connect, listen, parseTarget, SessionHost } from './channel.js';

/** A stand-in agent: HELLO first, ECHO_REQUEST answered, everything recorded. */
class FakeHost implements SessionHost {
  sessions: Array<{ received: OfpMessage[]; closed: boolean }> = [];

  openSession(send: (raw: Buffer) => void, onClose?: () => void): ChannelSession {
    const s = { received: [] as OfpMessage[], closed: false };
    this.sessions.push(s);
    send(encodeMessage(ourHello(1)));
    return {
      receive(raw) {
        const m = decodeMessage(raw);
        s.received.push(m);
        if (m.type === OFPT.ECHO_REQUEST) send(encodeMessage({ type: OFPT.ECHO_REPLY, xid: m.xid, data: m.data }));
        // Stands for a failed negotiation: an ERROR, then the session ends the connection.
        if (m.type === OFPT.BARRIER_REQUEST) {
          send(encodeMessage({ type: OFPT.ERROR, xid: m.xid, errorType: 0, code: 0, data: Buffer.from('bye') }));
          onClose?.();
        }
      },
      close() {
        s.closed = true;
      },
    };
  }
}

/** A test-side OpenFlow peer over a raw socket. */
class Peer {
  readonly messages: OfpMessage[] = [];
  private readonly framer = new Framer();
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c)) this.messages.push(decodeMessage(raw));
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => resolve(new Peer(s)));
      s.once('error', reject);
    });
  }

  send(m: OfpMessage): void {
    this.socket.write(encodeMessage(m));
  }

  async waitFor(pred: (m: OfpMessage) => boolean, ms = 3000): Promise<OfpMessage> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = this.messages.find(pred);
      if (m) return m;
      await sleep(5);
    }
    throw new Error('timed out waiting for a message');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe('channel: passive (listen)', () => {
  it('binds an ephemeral port and gives every connection its own session', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0 });
    try {
      expect(l.port).toBeGreaterThan(0);
      const a = await Peer.open(l.port);
      const b = await Peer.open(l.port);
      await a.waitFor((m) => m.type === OFPT.HELLO);
      await b.waitFor((m) => m.type === OFPT.HELLO);
      a.send({ type: OFPT.ECHO_REQUEST, xid: 11, data: Buffer.from('a') });
      b.send({ type: OFPT.ECHO_REQUEST, xid: 22, data: Buffer.from('b') });
      expect(await a.waitFor((m) => m.type === OFPT.ECHO_REPLY)).toMatchObject({ xid: 11, data: Buffer.from('a') });
      expect(await b.waitFor((m) => m.type === OFPT.ECHO_REPLY)).toMatchObject({ xid: 22, data: Buffer.from('b') });
      expect(host.sessions).toHaveLength(2);
      expect(l.connections).toBe(2);
      a.socket.destroy();
      b.socket.destroy();
    } finally {
      await l.close();
    }
  });

  it('reassembles messages split across and coalesced within TCP segments', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0 });
    try {
      const p = await Peer.open(l.port);
      const bytes = Buffer.concat([1, 2, 3].map((xid) => encodeMessage({ type: OFPT.ECHO_REQUEST, xid, data: Buffer.alloc(100, xid) })));
      for (let i = 0; i < bytes.length; i += 7) {
        p.socket.write(bytes.subarray(i, i + 7));
        await sleep(1);
      }
      await until(() => host.sessions[0]?.received.length === 3);
      expect(host.sessions[0].received.map((m) => m.xid)).toEqual([1, 2, 3]);
      p.socket.destroy();
    } finally {
      await l.close();
    }
  });

  it('closes a garbage-sending peer and only that one', async () => {
    const host = new FakeHost();
    const events: ChannelEvent[] = [];
    const l = await listen(host, { port: 0, onEvent: (e) => events.push(e) });
    try {
      const good = await Peer.open(l.port);
      const bad = await Peer.open(l.port);
      await until(() => host.sessions.length === 2);
      bad.socket.write(Buffer.from('0400000300000000', 'hex')); // length 3 < 8: unframeable
      await until(() => bad.closed);
      expect(host.sessions[1].closed).toBe(true);
      expect(events.some((e) => e.kind === 'disconnected' && /unframeable/.test(e.reason))).toBe(true);
      good.send({ type: OFPT.ECHO_REQUEST, xid: 5, data: Buffer.alloc(0) });
      await good.waitFor((m) => m.type === OFPT.ECHO_REPLY && m.xid === 5);
      expect(host.sessions[0].closed).toBe(false);
      expect(l.connections).toBe(1);
      good.socket.destroy();
    } finally {
      await l.close();
    }
  });

  it('closes the session of a peer that died, and the others keep going', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0 });
    try {
      const a = await Peer.open(l.port);
      const b = await Peer.open(l.port);
      await until(() => host.sessions.length === 2);
      a.socket.resetAndDestroy();
      await until(() => host.sessions[0].closed);
      b.send({ type: OFPT.ECHO_REQUEST, xid: 9, data: Buffer.alloc(0) });
      await b.waitFor((m) => m.type === OFPT.ECHO_REPLY && m.xid === 9);
      b.socket.destroy();
    } finally {
      await l.close();
    }
  });

  it('delivers the last words of a session that ends the connection itself, then closes', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0 });
    try {
      const p = await Peer.open(l.port);
      p.send({ type: OFPT.BARRIER_REQUEST, xid: 4 });
      await until(() => p.closed);
      expect(p.messages.map((m) => m.type)).toEqual([OFPT.HELLO, OFPT.ERROR]);
      expect(host.sessions[0].closed).toBe(true);
    } finally {
      await l.close();
    }
  });

  it('closes a silent peer after idleTimeoutMs', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0, idleTimeoutMs: 100 });
    try {
      const p = await Peer.open(l.port);
      await until(() => p.closed, 2000);
      expect(host.sessions[0].closed).toBe(true);
    } finally {
      await l.close();
    }
  });

  it('close() ends every connection', async () => {
    const host = new FakeHost();
    const l = await listen(host, { port: 0 });
    const p = await Peer.open(l.port);
    await until(() => host.sessions.length === 1);
    await l.close();
    await until(() => p.closed);
    expect(host.sessions[0].closed).toBe(true);
  });

  it('reports a port already in use', async () => {
    const l = await listen(new FakeHost(), { port: 0 });
    try {
      await expect(listen(new FakeHost(), { port: l.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await l.close();
    }
  });
});

describe('channel: active (connect)', () => {
  /** A controller stand-in: records the peers that connect. */
  async function controller(port = 0): Promise<{ server: Server; port: number; peers: Peer[] }> {
    const peers: Peer[] = [];
    const server = createServer((s) => peers.push(new Peer(s)));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const addr = server.address();
    return { server, port: typeof addr === 'object' && addr ? addr.port : port, peers };
  }

  it('parses targets', () => {
    expect(parseTarget('tcp:127.0.0.1:6633')).toEqual({ host: '127.0.0.1', port: 6633 });
    expect(parseTarget('tcp:ctl.example')).toEqual({ host: 'ctl.example', port: 6653 });
    expect(parseTarget('tcp:[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(() => parseTarget('ssl:1.2.3.4:6653')).toThrow(/tcp:HOST/);
    expect(() => parseTarget('tcp:1.2.3.4:70000')).toThrow(/bad port/);
  });

  it('connects, speaks, and reconnects with growing delays after the controller goes away', async () => {
    // Find a free port, then leave it closed so the first attempts fail.
    const probe = await controller();
    const port = probe.port;
    await new Promise((r) => probe.server.close(r));

    const host = new FakeHost();
    const events: ChannelEvent[] = [];
    const ch = connect(host, `tcp:127.0.0.1:${port}`, { minBackoffMs: 20, maxBackoffMs: 80, onEvent: (e) => events.push(e) });
    try {
      await until(() => events.filter((e) => e.kind === 'retry').length >= 4);
      const delays = events.filter((e): e is Extract<ChannelEvent, { kind: 'retry' }> => e.kind === 'retry').map((e) => e.delayMs);
      expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);
      expect(ch.connected).toBe(false);

      const ctl = await controller(port);
      await ch.whenConnected();
      await until(() => ctl.peers.length === 1);
      const peer = ctl.peers[0];
      await peer.waitFor((m) => m.type === OFPT.HELLO);
      peer.send({ type: OFPT.ECHO_REQUEST, xid: 3, data: Buffer.alloc(0) });
      await peer.waitFor((m) => m.type === OFPT.ECHO_REPLY && m.xid === 3);

      // The controller drops the connection: the switch comes back on its own.
      peer.socket.destroy();
      await until(() => ctl.peers.length === 2);
      await ctl.peers[1].waitFor((m) => m.type === OFPT.HELLO);
      expect(host.sessions[0].closed).toBe(true);
      expect(ch.connects).toBe(2);

      await ch.stop();
      await until(() => ctl.peers[1].closed);
      await sleep(150);
      expect(ctl.peers).toHaveLength(2);
      expect(ch.connected).toBe(false);
      await new Promise((r) => ctl.server.close(r));
    } finally {
      await ch.stop();
    }
  });

  it('a garbage-sending controller loses its connection, and the switch reconnects', async () => {
    const ctl = await controller();
    const host = new FakeHost();
    const ch = connect(host, `tcp:127.0.0.1:${ctl.port}`, { minBackoffMs: 10 });
    try {
      await until(() => ctl.peers.length === 1);
      ctl.peers[0].socket.write(Buffer.from('0400000000000000', 'hex'));
      await until(() => ctl.peers.length === 2);
      await ctl.peers[1].waitFor((m) => m.type === OFPT.HELLO);
    } finally {
      await ch.stop();
      await new Promise((r) => ctl.server.close(r));
    }
  });
});
