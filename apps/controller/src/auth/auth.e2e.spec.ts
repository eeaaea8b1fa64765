/**
 * The authenticated orchestrator API, over every route and message pattern
 * the app has (read from Nest's own route metadata, and checked against the
 * OpenAPI document): no token or an unknown one → 401, a read token on a
 * mutating route or pattern → 403, the admin token passes; only GET
 * /healthz is open. Tokens never reach the audit log.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { firstValueFrom } from 'rxjs';
import { createApp, type ControllerApp } from '../app.module.js';
import { call, ephemeralConfig, TEST_TOKENS } from '../spec-app.js';
import { READ_PATTERNS } from './auth.guard.js';

interface Route {
  method: string;
  /** Nest's form: /v1/instances/:vnf */
  path: string;
}

/** Every HTTP route and message pattern of the app's controllers, from their Nest metadata. */
function routesOf(c: ControllerApp): { routes: Route[]; patterns: string[] } {
  const routes: Route[] = [];
  const patterns: string[] = [];
  for (const mod of c.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
      if (type === undefined) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        for (const p of (Reflect.getMetadata(PATTERN_METADATA, handler) as unknown[] | undefined) ?? []) patterns.push(String(p));
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (sub === undefined || method === undefined) continue;
        const path = `/${[base, sub].map((s) => s.replace(/^\/+|\/+$/g, '')).filter((s) => s !== '').join('/')}`;
        routes.push({ method: RequestMethod[method], path });
      }
    }
  }
  return { routes, patterns };
}

const concrete = (path: string): string => path.replace(/:vnf/g, 'fw1');
const isRead = (method: string): boolean => method === 'GET' || method === 'HEAD';

const { config, dataDir } = ephemeralConfig('nicvisor-auth-');

describe('bearer tokens on the orchestrator API', () => {
  let c: ControllerApp;
  let routes: Route[];
  let patterns: string[];

  beforeAll(async () => {
    c = await createApp(config, { logger: false });
    ({ routes, patterns } = routesOf(c));
    expect((await call(c, 'POST', '/v1/instances', { vnf: 'fw1', tenant: 'acme', ports: [1, 2] })).status).toBe(201);
  });
  afterAll(async () => {
    await c?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds every route of the OpenAPI document in the router metadata, /metrics included', async () => {
    const doc = await call(c, 'GET', '/docs-json', undefined, null);
    expect(doc.status).toBe(200);
    const documented = Object.entries(doc.body.paths as Record<string, object>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const seen = routes.map((r) => `${r.method} ${r.path}`);
    expect(seen).toEqual(expect.arrayContaining(documented));
    expect(seen).toEqual(expect.arrayContaining(['GET /metrics', 'POST /v1/instances', 'DELETE /v1/instances/:vnf']));
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('answers 401 on every route but GET /healthz without a token, or with an unknown or malformed one', async () => {
    const open: string[] = [];
    for (const r of routes) {
      const res = await fetch(`${c.url}${concrete(r.path)}`, { method: r.method });
      if (res.status !== 401) {
        open.push(`${r.method} ${r.path}`);
        continue;
      }
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nicvisor"');
      expect(await res.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^missing bearer token: send 'Authorization: Bearer TOKEN'/) });

      const unknown = await call(c, r.method, concrete(r.path), undefined, 'not-a-token-of-this-controller');
      expect([r.path, unknown.status, unknown.body.message]).toEqual([r.path, 401, expect.stringMatching(/^unknown bearer token/)]);
      const basic = await fetch(`${c.url}${concrete(r.path)}`, { method: r.method, headers: { authorization: `Basic ${TEST_TOKENS.admin}` } });
      expect([r.path, basic.status]).toEqual([r.path, 401]);
    }
    expect(open).toEqual(['GET /healthz']);
  }, 120_000);

  it('answers 403 to a read token on every mutating route, and lets it use every GET route', async () => {
    const mutating = routes.filter((r) => !isRead(r.method));
    expect(mutating.length).toBeGreaterThan(8);
    for (const r of mutating) {
      const res = await call(c, r.method, concrete(r.path), {}, TEST_TOKENS.read);
      expect([r.method, r.path, res.status, res.body.message]).toEqual([r.method, r.path, 403, `a read token may only inspect (GET); ${r.method} ${concrete(r.path)} needs an admin token`]);
    }
    for (const r of routes.filter((x) => isRead(x.method) && !x.path.endsWith('/events'))) {
      const res = await fetch(`${c.url}${concrete(r.path)}`, { headers: { authorization: `Bearer ${TEST_TOKENS.read}` } });
      expect([r.path, res.status]).toEqual([r.path, 200]);
    }
    // The instance is untouched by the refused calls.
    expect((await call(c, 'GET', '/v1/instances/fw1', undefined, TEST_TOKENS.read)).body).toMatchObject({ vnf: 'fw1', ports: [1, 2] });
  }, 120_000);

  it('refuses every message pattern without a token, a read token on the mutating ones, and keeps tokens out of the audit log', async () => {
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: c.rpcPort } });
    await client.connect();
    const send = (pattern: string, data: object): Promise<unknown> => firstValueFrom(client.send(pattern, data));
    try {
      expect(patterns.length).toBeGreaterThanOrEqual(7);
      for (const p of patterns) {
        await expect(send(p, { vnf: 'fw1' })).rejects.toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^missing token/) });
        await expect(send(p, { token: 'not-a-token-of-this-controller', vnf: 'fw1' })).rejects.toMatchObject({ statusCode: 401, message: expect.stringMatching(/^unknown token/) });
        if (READ_PATTERNS.has(p)) await expect(send(p, { token: TEST_TOKENS.read, vnf: 'fw1' })).resolves.toBeDefined();
        else await expect(send(p, { token: TEST_TOKENS.read, vnf: 'fw2', tenant: 'acme', ports: [5] })).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining(`${p} needs an admin token`) });
      }
      expect(await send('instance.create', { token: TEST_TOKENS.admin, vnf: 'fw2', tenant: 'acme', ports: [5] })).toMatchObject({ created: true });
      const audit = await send('audit.query', { token: TEST_TOKENS.read, vnf: 'fw2' });
      expect(audit).toEqual([expect.objectContaining({ action: 'instance.create', actor: 'rpc', result: 'ok' })]);
      const all = JSON.stringify((await call(c, 'GET', '/v1/audit')).body);
      expect(all).not.toContain(TEST_TOKENS.admin);
      expect(all).not.toContain(TEST_TOKENS.read);
    } finally {
      await client.close();
    }
  }, 60_000);
});
