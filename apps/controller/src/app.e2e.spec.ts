/**
 * The orchestrator API end to end: the whole app on ephemeral ports with the
 * embedded emulated NIC, driven over HTTP (fetch) and through a real
 * ClientProxy on the TCP transport.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { createApp, type ControllerApp } from './app.module.js';
import { call, ephemeralConfig, TEST_TOKENS } from './spec-app.js';
import { PATTERNS } from './instances/instances.constants.js';

const { config, dataDir } = ephemeralConfig('nicvisor-e2e-');

describe('orchestrator API (embedded NIC)', () => {
  let c: ControllerApp;

  beforeAll(async () => {
    c = await createApp(config, { logger: false });
  });
  afterAll(async () => {
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an instance (201), answers the same body with 200 and a different one with 409', async () => {
    const body = { vnf: 'fw1', tenant: 'acme', ports: [1, 2] };
    const created = await call(c, 'POST', '/v1/instances', body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      vnf: 'fw1',
      tenant: 'acme',
      nic: 'embedded',
      ports: [1, 2],
      tables: { operator: [0], virtual: true },
      quotas: { maxFlows: 4096 },
      channel: { mode: 'listen' },
      connected: true,
    });
    expect(created.body.datapathId).toMatch(/^[0-9a-f]{16}$/);
    expect(created.body.tables.tenant).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(created.body.channel.endpoint).toMatch(/^tcp:127\.0\.0\.1:\d+$/);

    const again = await call(c, 'POST', '/v1/instances', { ports: [2, 1], tenant: 'acme', vnf: 'fw1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);

    const different = await call(c, 'POST', '/v1/instances', { ...body, ports: [1, 2, 3] });
    expect(different.status).toBe(409);
    expect(different.body.field).toBe('vnf');
  });

  it('refuses a port attached to another vNF with 409', async () => {
    const r = await call(c, 'POST', '/v1/instances', { vnf: 'fw2', tenant: 'acme', ports: [2, 3] });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ statusCode: 409, field: 'ports' });
    expect(r.body.message).toContain('fw1');
  });

  it('answers 400 naming the field for bad input', async () => {
    const noVnf = await call(c, 'POST', '/v1/instances', { tenant: 'acme', ports: [1] });
    expect(noVnf.status).toBe(400);
    expect(noVnf.body.field).toBe('vnf');

    const badPorts = await call(c, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: [1, 'two'] });
    expect(badPorts.status).toBe(400);
    expect(badPorts.body.field).toBe('ports');
    expect(badPorts.body.message).toMatch(/ports must be an integer/);

    const notArray = await call(c, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: 3 });
    expect(notArray.status).toBe(400);
    expect(notArray.body.field).toBe('ports');

    const badMode = await call(c, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: [5], channel: { mode: 'dial' } });
    expect(badMode.status).toBe(400);
    expect(badMode.body.field).toBe('channel.mode');
    expect(badMode.body.message).toMatch(/channel\.mode must be one of the following values: listen, connect/);

    const badLayout = await call(c, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: [5], tables: { operator: [0], tenant: [0, 1] } });
    expect(badLayout.status).toBe(400);
    expect(badLayout.body.field).toMatch(/^tables/);

    const malformed = await call(c, 'POST', '/v1/instances', '{"vnf":');
    expect(malformed.status).toBe(400);

    // nothing was created by any of them
    expect((await call(c, 'GET', '/v1/instances/x1')).status).toBe(404);
  });

  it('gets, lists, patches, shows flows and deletes', async () => {
    const got = await call(c, 'GET', '/v1/instances/fw1');
    expect(got.status).toBe(200);
    expect(got.body.vnf).toBe('fw1');
    expect((await call(c, 'GET', '/v1/instances/nope')).status).toBe(404);

    const list = await call(c, 'GET', '/v1/instances');
    expect(list.body.map((i: { vnf: string }) => i.vnf)).toEqual(['fw1']);

    const flows = await call(c, 'GET', '/v1/instances/fw1/flows');
    expect(flows.status).toBe(200);
    expect(flows.body.map((f: { text: string }) => f.text.replace(/^.*priority/, 'priority')).sort()).toEqual([
      'priority=1,in_port=1 actions=goto_table:1',
      'priority=1,in_port=2 actions=goto_table:1',
    ]);
    expect(flows.body.every((f: { owner: string }) => f.owner === 'operator')).toBe(true);
    expect((await call(c, 'GET', '/v1/instances/fw1/flows?view=vnf')).body).toEqual([]);
    expect((await call(c, 'GET', '/v1/instances/fw1/flows?view=nope')).status).toBe(400);

    const tables = await call(c, 'GET', '/v1/instances/fw1/tables?view=vnf');
    expect(tables.body[0]).toMatchObject({ owner: 'tenant:acme', tableId: 0 });

    const patched = await call(c, 'PATCH', '/v1/instances/fw1', { ports: [1, 2, 4], quotas: { maxFlows: 10 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ ports: [1, 2, 4], quotas: { maxFlows: 10, maxGroups: 256 } });
    const after = await call(c, 'GET', '/v1/instances/fw1/flows');
    expect(after.body.filter((f: { text: string }) => f.text.includes('in_port=4'))).toHaveLength(1);
    expect((await call(c, 'PATCH', '/v1/instances/fw1', { quotas: { maxFlows: -1 } })).body.field).toBe('quotas.maxFlows');

    const op = await call(c, 'POST', '/v1/instances/fw1/flows', {
      priority: 5,
      match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2 }] }],
    });
    expect(op.status).toBe(201);
    expect(op.body.some((f: { text: string }) => f.text.endsWith('priority=5,ip,in_port=1 actions=output:2'))).toBe(true);
    const notOperator = await call(c, 'POST', '/v1/instances/fw1/flows', { tableId: 3 });
    expect(notOperator).toMatchObject({ status: 400, body: { field: 'tableId' } });
    const delOp = await call(c, 'DELETE', '/v1/instances/fw1/flows', { priority: 5, strict: true, match: [{ field: 'in_port', value: 1 }, { field: 'eth_type', value: 0x0800 }] });
    expect(delOp.status).toBe(200);
    expect(delOp.body.some((f: { text: string }) => f.text.includes('priority=5'))).toBe(false);

    const tenants = await call(c, 'GET', '/v1/tenants');
    expect(tenants.body).toEqual([expect.objectContaining({ tenant: 'acme', vnfs: ['fw1'] })]);

    // a second vNF gets its own datapath and endpoint; deleting frees its ports
    const fw3 = await call(c, 'POST', '/v1/instances', { vnf: 'fw3', tenant: 'beta', ports: [5] });
    expect(fw3.status).toBe(201);
    expect(fw3.body.datapathId).not.toBe(got.body.datapathId);
    expect(fw3.body.channel.endpoint).not.toBe(got.body.channel.endpoint);
    expect((await call(c, 'DELETE', '/v1/instances/fw3')).status).toBe(204);
    expect((await call(c, 'GET', '/v1/instances/fw3')).status).toBe(404);
    expect((await call(c, 'DELETE', '/v1/instances/fw3')).status).toBe(404);
    const reuse = await call(c, 'POST', '/v1/instances', { vnf: 'fw4', tenant: 'beta', ports: [5] });
    expect(reuse.status).toBe(201);
    expect((await call(c, 'DELETE', '/v1/instances/fw4')).status).toBe(204);
  });

  it('serves the same operations as message patterns through a ClientProxy', async () => {
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: c.rpcPort } });
    await client.connect();
    const send = <T>(pattern: string, data: object): Promise<T> => firstValueFrom(client.send<T>(pattern, { token: TEST_TOKENS.admin, ...data }));
    try {
      const created = await send<{ created: boolean; instance: { vnf: string; datapathId: string } }>(PATTERNS.INSTANCE_CREATE, {
        vnf: 'lb1',
        tenant: 'beta',
        ports: [7, 8],
      });
      expect(created.created).toBe(true);
      expect(created.instance.vnf).toBe('lb1');
      expect((await send<{ created: boolean }>(PATTERNS.INSTANCE_CREATE, { vnf: 'lb1', tenant: 'beta', ports: [7, 8] })).created).toBe(false);
      expect((await send<{ vnf: string }>(PATTERNS.INSTANCE_GET, { vnf: 'lb1' })).vnf).toBe('lb1');
      expect((await send<Array<{ vnf: string }>>(PATTERNS.INSTANCE_LIST, {})).map((i) => i.vnf)).toEqual(['fw1', 'lb1']);
      expect((await send<{ quotas: { maxMeters: number } }>(PATTERNS.INSTANCE_UPDATE, { vnf: 'lb1', quotas: { maxMeters: 3 } })).quotas.maxMeters).toBe(3);
      expect((await send<Array<{ tenant: string }>>(PATTERNS.TENANT_LIST, {})).map((t) => t.tenant)).toEqual(['acme', 'beta']);

      await expect(send(PATTERNS.INSTANCE_CREATE, { vnf: 'lb2', tenant: 'beta', ports: [8] })).rejects.toMatchObject({ statusCode: 409, field: 'ports' });
      await expect(send(PATTERNS.INSTANCE_CREATE, { tenant: 'beta', ports: ['x'] })).rejects.toMatchObject({ statusCode: 400, field: 'vnf' });
      await expect(send(PATTERNS.INSTANCE_GET, { vnf: 'nope' })).rejects.toMatchObject({ statusCode: 404 });

      const audit = await send<Array<{ action: string; actor: string }>>(PATTERNS.AUDIT_QUERY, { vnf: 'lb1' });
      expect(audit.filter((a) => a.actor === 'rpc').map((a) => a.action)).toEqual(
        expect.arrayContaining([PATTERNS.INSTANCE_CREATE, PATTERNS.INSTANCE_GET, PATTERNS.INSTANCE_UPDATE]),
      );
      expect(await send(PATTERNS.INSTANCE_DELETE, { vnf: 'lb1' })).toEqual({ deleted: 'lb1' });
    } finally {
      await client.close();
    }
  });

  it('audits every orchestrator call, queryable by vnf, tenant and time', async () => {
    const all = await call(c, 'GET', '/v1/audit?vnf=fw1');
    expect(all.status).toBe(200);
    const creates = all.body.filter((a: { action: string }) => a.action === 'instance.create');
    expect(creates.map((a: { status: number }) => a.status)).toEqual([201, 200, 409]);
    expect(creates[0]).toMatchObject({ actor: expect.stringMatching(/^rest /), tenant: 'acme', result: 'ok' });
    expect(creates[2]).toMatchObject({ result: 'Conflict', status: 409 });
    const byTenant = await call(c, 'GET', '/v1/audit?tenant=beta');
    expect(byTenant.body.length).toBeGreaterThan(0);
    expect(byTenant.body.every((a: { tenant: string }) => a.tenant === 'beta')).toBe(true);
    const future = await call(c, 'GET', `/v1/audit?since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.body).toEqual([]);
    expect((await call(c, 'GET', '/v1/audit?since=yesterday')).body.field).toBe('since');
  });

  it('answers /healthz', async () => {
    const h = await call(c, 'GET', '/healthz');
    expect(h).toMatchObject({ status: 200, body: { status: 'ok', instances: 1, connected: 1 } });
  });

  it('serves a valid OpenAPI document listing the routes', async () => {
    const d = await call(c, 'GET', '/docs-json');
    expect(d.status).toBe(200);
    expect(d.body.openapi).toMatch(/^3\./);
    expect(d.body.info.title).toBeTruthy();
    for (const p of ['/v1/instances', '/v1/instances/{vnf}', '/v1/instances/{vnf}/flows', '/v1/instances/{vnf}/events', '/v1/tenants', '/v1/audit', '/healthz']) {
      expect(d.body.paths[p]).toBeDefined();
    }
    expect(Object.keys(d.body.paths['/v1/instances'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(d.body.paths['/v1/instances/{vnf}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(d.body.components.schemas.CreateInstanceDto.required).toEqual(expect.arrayContaining(['vnf', 'tenant', 'ports']));
    const ui = await fetch(`${c.url}/docs`);
    expect(ui.status).toBe(200);
  });

  it('streams flow events over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${c.url}/v1/instances/fw1/events`, { headers: { authorization: `Bearer ${TEST_TOKENS.admin}` }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    await call(c, 'POST', '/v1/instances/fw1/flows', { priority: 9, match: [{ field: 'in_port', value: 2 }] });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: flow-added') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    ac.abort();
    expect(text).toContain('event: flow-added');
    expect(text).toContain('"owner":"operator"');
  });

  it('restarts from the store: the instance is back with the same endpoint port', async () => {
    const before = (await call(c, 'GET', '/v1/instances/fw1')).body;
    await c.close();
    c = await createApp(config, { logger: false });
    const after = await call(c, 'GET', '/v1/instances/fw1');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ datapathId: before.datapathId, ports: before.ports, channel: before.channel, connected: true });
    const flows = await call(c, 'GET', '/v1/instances/fw1/flows');
    expect(flows.body.filter((f: { text: string }) => f.text.includes('goto_table:1'))).toHaveLength(3);
    // the datapath-id counter carries on
    const next = await call(c, 'POST', '/v1/instances', { vnf: 'fw9', tenant: 'acme', ports: [9] });
    expect(BigInt(`0x${next.body.datapathId}`)).toBeGreaterThan(BigInt(`0x${before.datapathId}`));
  });
});
