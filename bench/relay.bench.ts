/**
 * Relay-path micro-benchmark (`npm run bench:relay`): the CPU time nicvisor
 * spends per flow-mod a vNF sends, from the bytes its socket read to the
 * bytes handed to the NIC session, in one process and without sockets.
 *
 * N pre-encoded OFPFC_ADD flow-mods (eth_type, ipv4_dst, ip_proto, tcp_dst;
 * apply-actions output:2; table 0 of the view) arrive as 64 KiB chunks on a
 * real VnfChannel's connection (OfSocket → Framer → DelegatedConnection →
 * verifyFlowModWire → Relayed → NicSession.sendOneway), whose NIC transport
 * drops what it is given. Policy on, and off (`enforce = false`: flow-mods
 * relayed untranslated, to table 1 as the channel benchmark does); the
 * policy's cost is the difference.
 *
 * Only the delivery of the chunks is timed, by the main thread's CPU time
 * (/proc/thread-self/schedstat; the machine is shared, so not by the wall
 * clock; GC helper threads are not counted, the event loop's thread is what
 * one vNF's relay is bounded by); the NIC's barrier answers that
 * confirm what was relayed (so the shadow takes the flows and nothing piles
 * up) come between bursts, untimed, as they would between socket reads.
 * Every round uses a fresh channel, NIC session and shadow, and checks that
 * every flow-mod reached the NIC (with the table the policy gives it) and no
 * error went back. Warm-up rounds (3 per mode) are discarded; each figure is
 * the median of BENCH_REPS rounds (modes alternate, so a busy moment hits
 * both alike), with its range.
 *
 * Env: BENCH_FLOWMODS (default 200000), BENCH_REPS (default 9).
 */
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { loadavg } from 'node:os';
import { Subscription } from 'rxjs';
import { encodeMessage, OFPT } from '../libs/openflow/src/index.js';
import { createOwnership, Ownership } from '../libs/tenancy/src/index.js';
import { VnfChannel } from '../apps/controller/src/openflow/delegated-channel.js';
import { NicSession } from '../apps/controller/src/openflow/nic-session.js';
import { Shadow } from '../apps/controller/src/openflow/shadow.js';
import { flowMods } from './flow-mods.js';

const N = Number(process.env.BENCH_FLOWMODS ?? 200_000);
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 9));
/** Rounds per mode run first and discarded: the JIT needs a few to settle. */
const WARMUP = 3;
/** What one socket read delivers. */
const CHUNK = 64 * 1024;
/** Chunks delivered between two barrier answers from the NIC. */
const CHUNKS_PER_BURST = 4;

/** The vNF's end of the connection: OfSocket reads 'data' events from it; what nicvisor writes back is counted. */
class FakeVnfSocket extends EventEmitter {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 1;
  readonly writableLength = 0;
  written = 0;
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  write(b: Buffer): boolean {
    this.written += b.length;
    return true;
  }
  end(cb?: () => void): this {
    cb?.();
    return this;
  }
  destroy(): this {
    return this;
  }
}

/** The NIC: drops what it is sent, but remembers the barriers so they can be answered, and checks the flow-mods. */
class FakeNic {
  flowMods = 0;
  wrongTable = 0;
  barriers: number[] = [];
  readonly session: NicSession;

  constructor(private readonly expectTable: number) {
    this.session = new NicSession({ send: (raw) => this.send(raw), end: () => undefined, close: () => undefined });
    this.session.state = 'ready';
  }

  private send(raw: Buffer): void {
    if (raw[1] === OFPT.FLOW_MOD) {
      this.flowMods++;
      if (raw[24] !== this.expectTable) this.wrongTable++;
    } else if (raw[1] === OFPT.BARRIER_REQUEST) {
      this.barriers.push(raw.readUInt32BE(4));
    }
  }

  answerBarriers(): void {
    const xids = this.barriers.splice(0);
    for (const xid of xids) this.session.receive(encodeMessage({ type: OFPT.BARRIER_REPLY, xid }));
  }
}

const ownership: Ownership = (() => {
  const r = createOwnership({ vnf: 'bench', tenant: 't-bench', ports: [1, 2], tableCount: 64, quotas: { maxFlows: 10_000_000 } });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.ownership;
})();

/**
 * CPU-µs this (the main) thread has run: /proc's schedstat (ns) on Linux, else
 * the whole process's user + system time (GC helper threads included).
 */
function mainThreadCpuUs(): number {
  if (SCHEDSTAT) return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]) / 1000;
  const u = process.cpuUsage();
  return u.user + u.system;
}
const SCHEDSTAT = existsSync('/proc/thread-self/schedstat');

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

interface Mode {
  label: string;
  enforce: boolean;
  chunks: Buffer[];
  /** The table id the NIC must see. */
  nicTable: number;
}

function chunksOf(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < b.length; off += CHUNK) out.push(b.subarray(off, Math.min(b.length, off + CHUNK)));
  return out;
}

/** One round: a fresh channel; returns CPU-µs per flow-mod of the timed deliveries. */
async function round(mode: Mode): Promise<number> {
  const nic = new FakeNic(mode.nicTable);
  const ch = new VnfChannel(ownership, 0x1000n, { mode: 'listen', port: 0 }, {
    shadow: new Shadow(),
    readySession: () => nic.session,
    subscribeAsync: () => new Subscription(),
    allocatePort: () => [],
    log: (line) => process.stderr.write(`${line}\n`),
  });
  ch.enforce = mode.enforce;
  const sock = new FakeVnfSocket();
  ch.acceptRelayed(sock as unknown as Socket);
  let cpuUs = 0;
  for (let i = 0; i < mode.chunks.length; i += CHUNKS_PER_BURST) {
    const stop = Math.min(mode.chunks.length, i + CHUNKS_PER_BURST);
    const c0 = mainThreadCpuUs();
    for (let j = i; j < stop; j++) sock.emit('data', mode.chunks[j]);
    cpuUs += mainThreadCpuUs() - c0;
    // Untimed: the connection's confirming barrier goes out on the next turn; the NIC answers it.
    await nextTurn();
    nic.answerBarriers();
  }
  await nextTurn();
  const errors = ch.counters.tx[OFPT.ERROR];
  if (nic.flowMods !== N || nic.wrongTable !== 0 || errors !== 0) {
    throw new Error(`${mode.label}: ${nic.flowMods}/${N} flow-mods reached the NIC, ${nic.wrongTable} with a wrong table, ${errors} errors`);
  }
  await ch.close();
  return cpuUs / N;
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >>> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The spread of a figure over the rounds; the lowest is the round least disturbed by whatever else ran. */
const range = (xs: number[]) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;

async function main(): Promise<void> {
  process.stdout.write(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  // Policy on: the vNF's table 0 is physical 1. Off: the vNF's ids reach the NIC untranslated, so it names 1 itself.
  const on: Mode = { label: 'policy on', enforce: true, chunks: chunksOf(flowMods(N, 0, 2)), nicTable: 1 };
  const off: Mode = { label: 'policy off', enforce: false, chunks: chunksOf(flowMods(N, 1, 2)), nicTable: 1 };
  const samples = new Map<Mode, number[]>([
    [on, []],
    [off, []],
  ]);
  for (let r = 0; r < WARMUP + REPS; r++) {
    for (const m of r % 2 === 0 ? [on, off] : [off, on]) {
      // With --expose-gc (the npm script): the previous round's garbage is collected before this one, untimed.
      (globalThis as { gc?: () => void }).gc?.();
      const us = await round(m);
      if (r >= WARMUP) samples.get(m)!.push(us);
      if (process.env.BENCH_VERBOSE) process.stdout.write(`round ${r} ${m.label}: ${us.toFixed(3)}\n`);
    }
  }
  const usOn = samples.get(on)!;
  const usOff = samples.get(off)!;
  const diff = usOn.map((x, i) => x - usOff[i]);
  const rounds = `median of ${REPS} rounds of ${N} flow-mods`;
  process.stdout.write(`relay CPU per flow-mod, policy on: ${median(usOn).toFixed(3)} CPU-µs (reference policy off ${median(usOff).toFixed(3)}; ${rounds}, range ${range(usOn)})\n`);
  process.stdout.write(`relay CPU per flow-mod, policy off: ${median(usOff).toFixed(3)} CPU-µs (reference none: flow-mods relayed untranslated; ${rounds}, range ${range(usOff)})\n`);
  process.stdout.write(`policy cost per flow-mod: ${median(diff).toFixed(3)} CPU-µs (reference none: on minus off per round, range ${range(diff)})\n`);
  process.stdout.write(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
