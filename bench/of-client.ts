/** The benchmarks' OpenFlow client: HELLO, barriers and requests resolved by xid, errors counted. */
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { decodeMessage, encodeMessage, Framer, MultipartRequest, OFPFC, OFPG, OFPMP, OFPP, OFPT, OFPTT, ourHello } from '../libs/openflow/src/index.js';

/** Deletes every flow of view table `table` (as the vNF would): between rounds, untimed. */
function deleteAll(table: number): Buffer {
  return encodeMessage({
    type: OFPT.FLOW_MOD,
    xid: 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: table,
    command: OFPFC.DELETE,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [],
    instructions: [],
  });
}

/** How a client reaches its switch: plain TCP here. */
export type Dial = (port: number) => Promise<Socket>;

const dialTcp: Dial = (port) =>
  new Promise<Socket>((resolve, reject) => {
    const sock = netConnect({ host: '127.0.0.1', port }, () => resolve(sock));
    sock.once('error', reject);
  });

/** A client's key and certificate, and the CA certificate its peer's must chain to (PEM). */
export interface TlsCredentials {
  key: string;
  cert: string;
  ca: string;
}

/** Mutual TLS with `creds` (the peer's name is not checked: a bench connects by address). */
export function dialTls(creds: TlsCredentials): Dial {
  return (port) =>
    new Promise<Socket>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, ...creds, checkServerIdentity: () => undefined }, () => resolve(sock));
      sock.once('error', reject);
    });
}

/** An OpenFlow client that counts errors and resolves barriers and requests by xid. */
export class Client {
  errors = 0;
  private readonly framer = new Framer();
  private readonly waiting = new Map<number, (raw: Buffer) => void>();
  private helloSeen!: () => void;
  readonly hello = new Promise<void>((r) => (this.helloSeen = r));

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c)) {
        const type = raw[1];
        if (type === OFPT.HELLO) this.helloSeen();
        else if (type === OFPT.ERROR) this.errors++;
        else if (type === OFPT.BARRIER_REPLY || type === OFPT.MULTIPART_REPLY) {
          const xid = raw.readUInt32BE(4);
          const w = this.waiting.get(xid);
          this.waiting.delete(xid);
          w?.(raw);
        }
      }
    });
    socket.write(encodeMessage(ourHello(1)));
  }

  static async open(port: number, dial: Dial = dialTcp): Promise<Client> {
    const c = new Client(await dial(port));
    await c.hello;
    return c;
  }

  barrier(xid: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.set(xid, () => resolve());
      this.socket.write(encodeMessage({ type: OFPT.BARRIER_REQUEST, xid }));
    });
  }

  /** Flows in every table of its switch (an aggregate-stats request). */
  flowCount(): Promise<number> {
    const xid = 0xfffffff2;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(xid, (raw) => {
        const m = decodeMessage(raw);
        if (m.type === OFPT.MULTIPART_REPLY && m.body.mpType === OFPMP.AGGREGATE) resolve(m.body.flowCount);
        else reject(new Error(`unexpected reply type ${m.type}`));
      });
      this.socket.write(encodeMessage({ type: OFPT.MULTIPART_REQUEST, xid, flags: 0, body: aggregateAll() }));
    });
  }

  /** Writes the flow-mods in 64 KiB slices as the socket drains, then a barrier; resolves when it is answered. */
  async blast(mods: Buffer): Promise<void> {
    const slice = 1 << 16;
    for (let off = 0; off < mods.length; off += slice) {
      const ok = this.socket.write(mods.subarray(off, Math.min(mods.length, off + slice)));
      if (!ok) await new Promise<void>((r) => this.socket.once('drain', () => r()));
    }
    await this.barrier(0xfffffff0);
  }

  /** Deletes the flows of a table, untimed. */
  async clear(table: number): Promise<void> {
    this.socket.write(deleteAll(table));
    await this.barrier(0xfffffff1);
  }

  /** One barrier's round-trip time, in µs; `lead` (encoded messages) is written just before it. */
  async barrierRtt(xid: number, lead?: Buffer): Promise<number> {
    const t0 = process.hrtime.bigint();
    if (lead !== undefined) this.socket.write(lead);
    await this.barrier(xid);
    return Number(process.hrtime.bigint() - t0) / 1000;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function aggregateAll(): MultipartRequest['body'] {
  return { mpType: OFPMP.AGGREGATE, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] };
}

