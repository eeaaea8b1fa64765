/** Test helpers: a vNF-side OpenFlow client built from the project's codec, and flow-mod builders. */
import { connect as netConnect, Socket } from 'node:net';
import {
  Action,
  decodeMessage,
  encodeMessage,
  FlowMod,
  Framer,
  Instruction,
  Match,
  OFPFC,
  OFPG,
  OFPIT,
  OFPP,
  OFPT,
  OfpMessage,
  ourHello,
} from '@nicvisor/openflow';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class VnfClient {
  readonly got: OfpMessage[] = [];
  closed = false;
  private readonly framer = new Framer();
  private nextXid = 1000;

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      for (const raw of this.framer.push(c)) this.got.push(decodeMessage(raw));
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  /** Connects and completes the HELLO exchange. */
  static async open(port: number, host = '127.0.0.1'): Promise<VnfClient> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const sock = netConnect({ host, port }, () => resolve(sock));
      sock.once('error', reject);
    });
    const c = new VnfClient(s);
    c.send(ourHello(1));
    await c.waitFor((m) => m.type === OFPT.HELLO);
    return c;
  }

  /** Wraps an accepted socket (connect mode: nicvisor dialled us). */
  static fromSocket(s: Socket): VnfClient {
    return new VnfClient(s);
  }

  xid(): number {
    return this.nextXid++;
  }

  send(m: OfpMessage): void {
    this.socket.write(encodeMessage(m));
  }

  async waitFor(pred: (m: OfpMessage) => boolean, ms = 3000): Promise<OfpMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.got.find(pred);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting; got ${JSON.stringify(this.got.map((x) => [x.type, x.xid]))}`);
      await sleep(3);
    }
  }

  /** Sends a request with a fresh xid and waits for the message answering it (reply or error). */
  async request(m: OfpMessage, ms = 3000): Promise<OfpMessage> {
    const xid = this.xid();
    this.send({ ...m, xid } as OfpMessage);
    return this.waitFor((r) => r.xid === xid && r.type !== m.type, ms);
  }

  /** Every message answering xid (multipart parts), once the last one has come. */
  async replies(xid: number, ms = 3000): Promise<OfpMessage[]> {
    await this.waitFor((r) => r.xid === xid && (r.type !== OFPT.MULTIPART_REPLY || (r.flags & 1) === 0), ms);
    return this.got.filter((r) => r.xid === xid);
  }

  async barrier(ms = 5000): Promise<void> {
    const xid = this.xid();
    this.send({ type: OFPT.BARRIER_REQUEST, xid });
    await this.waitFor((r) => r.xid === xid && r.type === OFPT.BARRIER_REPLY, ms);
  }

  errors(): Array<{ xid: number; type: number; code: number }> {
    return this.got.filter((m) => m.type === OFPT.ERROR).map((m) => ({ xid: m.xid, type: (m as { errorType: number }).errorType, code: (m as { code: number }).code }));
  }

  close(): void {
    this.socket.destroy();
  }
}

export function flowMod(p: Partial<FlowMod> & { actions?: Action[]; goto?: number } = {}): FlowMod {
  const { actions, goto, ...rest } = p;
  const instructions: Instruction[] = p.instructions ?? [];
  if (p.instructions === undefined) {
    if (actions !== undefined) instructions.push({ type: OFPIT.APPLY_ACTIONS, actions });
    if (goto !== undefined) instructions.push({ type: OFPIT.GOTO_TABLE, tableId: goto });
  }
  return {
    type: OFPT.FLOW_MOD,
    xid: 0,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 10,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [] as Match,
    ...rest,
    instructions,
  };
}

export const output = (port: number, maxLen = 0xffff): Action => ({ type: 0, port, maxLen });

/** A 64-byte UDP/IPv4 frame. */
export function udpFrame(dst = '10.0.0.1'): Buffer {
  const f = Buffer.alloc(64);
  Buffer.from('0200000000020200000000010800', 'hex').copy(f, 0);
  f[14] = 0x45;
  f.writeUInt16BE(50, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from([10, 0, 0, 2]).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(1000, 34);
  f.writeUInt16BE(2000, 36);
  f.writeUInt16BE(30, 38);
  return f;
}
