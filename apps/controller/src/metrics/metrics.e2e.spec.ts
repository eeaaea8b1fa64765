/**
 * GET /metrics on the whole app: every family is exposed, and the values
 * move when a vNF programs its instance over its delegated channel and is
 * refused by the ownership policy.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { OFPBAC, OFPET, OFPT } from '@nicvisor/openflow';
import { createApp, type ControllerApp } from '../app.module.js';
import { flowMod, output, VnfClient } from '../openflow/spec-helpers.js';
import { call, ephemeralConfig, TEST_TOKENS } from '../spec-app.js';
import { ruleOf } from './controller-metrics.js';

/** `name{a="x",…} value` lines of the exposition format, as a lookup by name and labels (a subset matches). */
function parse(text: string): (name: string, labels?: Record<string, string>) => number {
  const samples = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!.replace(/\\(.)/g, '$1')]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
  return (name, labels = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

const FAMILIES = [
  'nicvisor_channels_up',
  'nicvisor_openflow_messages_total',
  'nicvisor_openflow_errors_sent_total',
  'nicvisor_policy_denials_total',
  'nicvisor_flows',
  'nicvisor_store_flush_seconds',
  'nicvisor_store_flushed_operations_total',
];

const { config, dataDir } = ephemeralConfig('nicvisor-metrics-');

describe('GET /metrics', () => {
  let c: ControllerApp;
  let vnf: VnfClient | undefined;

  beforeAll(async () => {
    c = await createApp(config, { logger: false });
  });
  afterAll(async () => {
    vnf?.close();
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function scrape(token: string | null = TEST_TOKENS.read): Promise<{ status: number; type: string | null; text: string }> {
    const res = await fetch(`${c.url}/metrics`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  it('needs a token (read is enough) and speaks the Prometheus text format', async () => {
    expect((await scrape(null)).status).toBe(401);
    const s = await scrape();
    expect(s.status).toBe(200);
    expect(s.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const f of FAMILIES) expect(s.text).toContain(`# TYPE ${f} `);
  });

  it('moves when a vNF sends flow-mods and is refused', async () => {
    const inst = await call(c, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] });
    expect(inst.status).toBe(201);
    const before = parse((await scrape()).text);

    vnf = await VnfClient.open(Number(/:(\d+)$/.exec(inst.body.channel.endpoint)![1]));
    const N = 5;
    for (let i = 0; i < N; i++) vnf.send({ ...flowMod({ tableId: 1, priority: 10 + i, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }), xid: vnf.xid() });
    await vnf.barrier();
    expect(vnf.errors()).toEqual([]);
    const denied = await vnf.request(flowMod({ tableId: 1, priority: 9, actions: [output(7)] }));
    expect(denied).toMatchObject({ type: OFPT.ERROR, errorType: OFPET.BAD_ACTION, code: OFPBAC.BAD_OUT_PORT });
    await vnf.barrier();

    const after = parse((await scrape()).text);
    const acme = { tenant: 'acme' };
    expect(after('nicvisor_channels_up', { kind: 'vnf' })).toBe(before('nicvisor_channels_up', { kind: 'vnf' }) + 1);
    expect(after('nicvisor_channels_up', { kind: 'nic' })).toBeGreaterThanOrEqual(1);
    expect(after('nicvisor_openflow_messages_total', { ...acme, direction: 'rx', type: 'FLOW_MOD' })).toBe(N + 1);
    expect(after('nicvisor_openflow_messages_total', { ...acme, direction: 'rx', type: 'BARRIER_REQUEST' })).toBe(2);
    expect(after('nicvisor_openflow_messages_total', { ...acme, direction: 'tx', type: 'BARRIER_REPLY' })).toBe(2);
    expect(after('nicvisor_openflow_messages_total', { ...acme, direction: 'tx', type: 'ERROR' })).toBe(1);
    expect(after('nicvisor_openflow_errors_sent_total', { ...acme, type: 'OFPET_BAD_ACTION', code: 'OFPBAC_BAD_OUT_PORT' })).toBe(1);
    expect(after('nicvisor_policy_denials_total', { ...acme, message: 'FLOW_MOD', rule: "output to port N is not one of the instance's" })).toBe(1);
    expect(after('nicvisor_flows', { vnf: 'fw1', tenant: 'acme', owner: 'tenant' })).toBe(N);
    // The operator's steering flow of each port.
    expect(after('nicvisor_flows', { vnf: 'fw1', owner: 'operator' })).toBe(2);
    expect(after('nicvisor_store_flush_seconds_count')).toBeGreaterThan(before('nicvisor_store_flush_seconds_count'));
    expect(after('nicvisor_store_flushed_operations_total')).toBeGreaterThanOrEqual(before('nicvisor_store_flushed_operations_total') + N);
  });

  it('names a denial rule without its numbers, so each rule is one series', () => {
    expect(ruleOf('table 3 is not the tenant\'s')).toBe("table N is not the tenant's");
    expect(ruleOf('group 0xf0000001 is in the operator\'s range')).toBe("group N is in the operator's range");
    expect(ruleOf(undefined)).toBe('unspecified');
  });
});
