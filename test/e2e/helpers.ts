/**
 * End-to-end helpers: the whole controller app (createApp) on ephemeral
 * ports with the embedded emulated NIC and a data directory, driven over
 * REST (fetch); the emulator read directly to check what really is on the
 * NIC. vNF clients are the project's codec (apps/controller/src/openflow/spec-helpers.ts).
 */
import 'reflect-metadata';
import { OFPG, OFPMP, OFPP, OFPTT, type FlowStats } from '@nicvisor/openflow';
import { createApp, type ControllerApp } from '../../apps/controller/src/app.module.js';
import { loadConfig } from '../../apps/controller/src/config.js';
import { CoreRuntime } from '../../apps/controller/src/instances/core-runtime.js';
import { INSTANCE_RUNTIME } from '../../apps/controller/src/instances/instance-runtime.js';
import { EmbeddedNicDriver } from '../../apps/controller/src/nic/embedded-driver.js';

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The controller on ephemeral ports (REST, RPC, NIC listener, vNF channels), its state in `dataDir`. */
export function startApp(dataDir: string): Promise<ControllerApp> {
  const config = loadConfig({
    NICVISOR_HTTP_PORT: '0',
    NICVISOR_RPC_PORT: '0',
    NICVISOR_OF_PORT: '0',
    NICVISOR_CHANNEL_PORTS: '0',
    NICVISOR_DATA_DIR: dataDir,
  });
  return createApp(config, { logger: false });
}

export async function call(c: ControllerApp, method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${c.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The app's OpenFlow runtime (the core and the NIC driver). */
export function runtimeOf(c: ControllerApp): CoreRuntime {
  const r = c.app.get<CoreRuntime>(INSTANCE_RUNTIME);
  if (!(r instanceof CoreRuntime)) throw new Error('not the core runtime');
  return r;
}

/** The embedded emulated NIC's driver. */
export function embeddedNic(c: ControllerApp): EmbeddedNicDriver {
  const d = runtimeOf(c).driver;
  if (!(d instanceof EmbeddedNicDriver)) throw new Error('not the embedded NIC');
  return d;
}

/** Every flow of an instance, read from the emulator itself (physical table ids). */
export function emulatorFlows(c: ControllerApp, datapathId: string): FlowStats[] {
  return embeddedNic(c)
    .nic.getInstance(BigInt(`0x${datapathId}`))
    .flowStats({ mpType: OFPMP.FLOW, tableId: OFPTT.ALL, outPort: OFPP.ANY, outGroup: OFPG.ANY, cookie: 0n, cookieMask: 0n, match: [] });
}

/** The port of a `tcp:HOST:PORT` endpoint. */
export function portOf(endpoint: string): number {
  return Number(/:(\d+)$/.exec(endpoint)![1]);
}

/** A flow as a comparable key: physical table, priority, match, instructions (no counters). */
export function flowKey(f: { tableId: number; priority: number; match: unknown; instructions: unknown; cookie?: bigint }): string {
  return JSON.stringify({ t: f.tableId, p: f.priority, m: f.match, i: f.instructions }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Waits until `pred` holds (polling), or fails with `what`. */
export async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
