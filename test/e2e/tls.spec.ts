/**
 * Mutual TLS on delegated channels, end to end: the whole controller app,
 * instances created over REST with `"channel": {"tls": true}` (listen) or an
 * `ssl:` target (connect), credentials from `POST
 * /v1/instances/:vnf/credentials`, and the project's codec over
 * `tls.connect` as the vNF. The right certificate programs the instance;
 * another vNF's certificate, a self-signed one, an expired one, none at all,
 * a revoked one and plain TCP are refused before any OpenFlow byte is read,
 * audited, and change nothing. nicvisor dialling a vNF controller verifies
 * that controller's certificate the same way and presents its own. The CA,
 * the issued serials and each instance's TLS setting survive a restart, and
 * NICVISOR_REQUIRE_TLS=1 refuses plain channels. Where Debian's
 * python3-os-ken is installed, an unmodified os-ken app with
 * `--ctl-privkey/--ctl-cert/--ca-certs` is programmed through TLS.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { encodeMessage, OFPT, ourHello } from '@nicvisor/openflow';
import type { ControllerApp } from '../../apps/controller/src/app.module.js';
import { createApp } from '../../apps/controller/src/app.module.js';
import { loadConfig } from '../../apps/controller/src/config.js';
import { CertificateAuthority, peerIdentity, type Credentials } from '../../apps/controller/src/pki/ca.js';
import { testEnv } from '../../apps/controller/src/spec-app.js';
import { flowMod, output, sleep, VnfClient } from '../../apps/controller/src/openflow/spec-helpers.js';
import { DEBIAN_PYTHON, freePort, osKenManager, peerMissing, startOsKen, type OsKen } from '../interop/harness.js';
import { call, emulatorFlows, flowKey, portOf, startApp, until } from './helpers.js';

type Creds = Pick<Credentials, 'key' | 'cert' | 'ca'>;

let dir: string;
let app: ControllerApp;
const creds: Record<string, Creds> = {};
const endpoints: Record<string, string> = {};
const datapaths: Record<string, string> = {};

/** A vNF's TLS connection to a listen endpoint, verifying that the server is nicvisor; resolves once the handshake is done. */
function tlsOpen(port: number, c: Partial<Creds>, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      ca,
      ...(c.key === undefined ? {} : { key: c.key, cert: c.cert }),
      checkServerIdentity: (_h, cert) => (peerIdentity(new X509Certificate(cert.raw))?.kind === 'controller' ? undefined : new Error('not nicvisor')),
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** The right certificate: HELLO answered, the codec's client over TLS. */
async function vnfOverTls(vnf: string): Promise<VnfClient> {
  const c = VnfClient.fromSocket(await tlsOpen(portOf(endpoints[vnf]!), creds[vnf]!, creds[vnf]!.ca));
  c.send(ourHello(1));
  await c.waitFor((m) => m.type === OFPT.HELLO);
  return c;
}

async function tlsAudits(vnf: string): Promise<Array<{ result: string; detail: string; action: string }>> {
  const r = await call(app, 'GET', `/v1/audit?vnf=${vnf}`);
  return (r.body as Array<{ result: string; detail: string; action: string }>).filter((e) => e.action === 'openflow.tls-handshake');
}

/**
 * Presents `c` at `vnf`'s endpoint, then (if the handshake completes on its
 * side, as TLS 1.3 lets a client believe) sends HELLO and a flow-mod: the
 * connection must be cut with no OpenFlow answer, nothing may change, and
 * one refusal with `reason` must be audited.
 */
async function expectRefused(vnf: string, c: Partial<Creds>, reason: RegExp): Promise<void> {
  const before = emulatorFlows(app, datapaths[vnf]!).map(flowKey).sort();
  const audited = (await tlsAudits(vnf)).length;
  let client: VnfClient | undefined;
  try {
    client = VnfClient.fromSocket(await tlsOpen(portOf(endpoints[vnf]!), c, creds[vnf]!.ca));
    client.send(ourHello(1));
    client.send(flowMod({ xid: 9, tableId: 0, priority: 77, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }));
    await until(() => client!.closed, 'the refused connection to be closed');
    expect(client.got).toEqual([]);
  } catch (e) {
    // Refused during the handshake itself (TLS 1.2, or no certificate at all): what we want, if it says so below.
    if (client !== undefined) throw e;
  }
  await until(async () => (await tlsAudits(vnf)).length > audited, `the refusal at ${vnf} to be audited`);
  const last = (await tlsAudits(vnf)).at(-1)!;
  expect(last.result).toBe('denied');
  expect(last.detail).toMatch(reason);
  await sleep(50);
  expect(emulatorFlows(app, datapaths[vnf]!).map(flowKey).sort()).toEqual(before);
}

async function create(body: Record<string, unknown>): Promise<void> {
  const r = await call(app, 'POST', '/v1/instances', body);
  expect(r.status).toBe(201);
  const vnf = body.vnf as string;
  endpoints[vnf] = r.body.channel.endpoint;
  datapaths[vnf] = r.body.datapathId;
}

async function credentials(vnf: string): Promise<Creds> {
  const r = await call(app, 'POST', `/v1/instances/${vnf}/credentials`);
  expect(r.status).toBe(201);
  creds[vnf] = r.body;
  return r.body;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nicvisor-e2e-tls-'));
  app = await startApp(dir);
  await create({ vnf: 'fw1', tenant: 'acme', ports: [1, 2], channel: { mode: 'listen', tls: true } });
  await create({ vnf: 'fw2', tenant: 'globex', ports: [3, 4], channel: { mode: 'listen', tls: true } });
}, 30_000);

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('listen endpoints with mutual TLS', () => {
  it('are ssl: endpoints; the CA lives in the data directory, its key 0600', async () => {
    expect(endpoints.fw1).toMatch(/^ssl:127\.0\.0\.1:\d+$/);
    const got = await call(app, 'GET', '/v1/instances/fw1');
    expect(got.body.channel).toEqual({ mode: 'listen', endpoint: endpoints.fw1, tls: true });
    expect(statSync(join(dir, 'pki', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'pki')).mode & 0o777).toBe(0o700);
  });

  it('issues credentials naming the vNF (CN and SAN URI), signed by the CA; 404 for an unknown vNF', async () => {
    const c = await credentials('fw1');
    await credentials('fw2');
    const cert = new X509Certificate(c.cert);
    expect(cert.subject).toBe('CN=fw1');
    expect(cert.subjectAltName).toBe('URI:urn:nicvisor:vnf:fw1');
    expect(cert.verify(new X509Certificate(c.ca).publicKey)).toBe(true);
    expect(c.ca).toBe(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'));
    expect(c.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const missing = await call(app, 'POST', '/v1/instances/nope/credentials');
    expect(missing.status).toBe(404);
  });

  it("the vNF's own certificate: its flow-mods program its instance", async () => {
    const c = await vnfOverTls('fw1');
    c.send(flowMod({ tableId: 0, priority: 20, match: [{ field: 'in_port', value: 1 }], actions: [output(2)] }));
    await c.barrier();
    expect(c.errors()).toEqual([]);
    expect(emulatorFlows(app, datapaths.fw1!).filter((f) => f.tableId === 1 && f.priority === 20)).toHaveLength(1);
    c.close();
  });

  it("another vNF's certificate is refused at the handshake, audited, and changes nothing", async () => {
    await expectRefused('fw1', creds.fw2!, /certificate [0-9A-F]+ is for vnf "fw2", not vnf "fw1"/);
  });

  it('a self-signed certificate naming the vNF is refused', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=fw1',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'urn:nicvisor:vnf:fw1' }])],
    });
    const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    await expectRefused('fw1', { key, cert: cert.toString('pem') }, /certificate not accepted \((DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\)/);
  });

  it("an expired certificate of nicvisor's CA for the right vNF is refused", async () => {
    const day = 86_400_000;
    const expired = await app.app.get(CertificateAuthority).issue('vnf', 'fw1', { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) });
    await expectRefused('fw1', expired, /certificate not accepted \(CERT_HAS_EXPIRED\)/);
  });

  it('no certificate at all is refused', async () => {
    await expectRefused('fw1', {}, /no client certificate/);
  });

  it('plain TCP on a TLS endpoint is refused, audited, and changes nothing', async () => {
    const before = emulatorFlows(app, datapaths.fw1!).map(flowKey).sort();
    const audited = (await tlsAudits('fw1')).length;
    const s = netConnect({ host: '127.0.0.1', port: portOf(endpoints.fw1!) });
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    let closed = false;
    s.on('close', () => (closed = true));
    s.write(Buffer.concat([encodeMessage(ourHello(1)), encodeMessage(flowMod({ xid: 9, priority: 78, actions: [output(2)] }))]));
    await until(() => closed, 'the plain connection to be closed');
    // Whatever came back is not OpenFlow (a TLS alert at most: content type 21, not version 4).
    for (const b of got) expect(b[0]).not.toBe(4);
    await until(async () => (await tlsAudits('fw1')).length > audited, 'the plain TCP refusal to be audited');
    expect((await tlsAudits('fw1')).at(-1)!.detail).toMatch(/TLS handshake failed \(ERR_SSL_WRONG_VERSION_NUMBER\)/);
    expect(emulatorFlows(app, datapaths.fw1!).map(flowKey).sort()).toEqual(before);
  });

  it("deleting an instance revokes its certificates: the old one is refused by a new instance of the same name", async () => {
    const old = creds.fw2!;
    expect((await call(app, 'DELETE', '/v1/instances/fw2')).status).toBe(204);
    await create({ vnf: 'fw2', tenant: 'globex', ports: [3, 4], channel: { mode: 'listen', tls: true } });
    await expectRefused('fw2', old, /certificate [0-9A-F]+ \(vnf "fw2"\) was revoked/);
    await credentials('fw2');
    (await vnfOverTls('fw2')).close();
  });

  it('connect mode: tls:true with a tcp: target is a 400; so is an unknown target scheme', async () => {
    const r = await call(app, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: [9], channel: { mode: 'connect', target: 'tcp:127.0.0.1:6633', tls: true } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/a TLS target is ssl:HOST:PORT/);
    const r2 = await call(app, 'POST', '/v1/instances', { vnf: 'x1', tenant: 'acme', ports: [9], channel: { mode: 'connect', target: 'tls:127.0.0.1:6633' } });
    expect(r2.status).toBe(400);
    expect(r2.body.message).toMatch(/channel.target must be tcp:HOST:PORT or ssl:HOST:PORT/);
  });
});

/** A vNF controller over TLS (the codec as the controller): requires nicvisor's certificate, records who connected. */
async function tlsController(c: Creds, port: number): Promise<{ server: TlsServer; peers: string[]; clients: VnfClient[] }> {
  const peers: string[] = [];
  const clients: VnfClient[] = [];
  const server = createTlsServer({ key: c.key, cert: c.cert, ca: c.ca, requestCert: true, rejectUnauthorized: true }, (s) => {
    const id = peerIdentity(s.getPeerX509Certificate()!);
    peers.push(`${id?.kind}:${id?.name}`);
    const client = VnfClient.fromSocket(s);
    client.send(ourHello(1));
    clients.push(client);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, peers, clients };
}

describe('connect mode (nicvisor dials an ssl: target)', () => {
  const closeAll = (c: { server: TlsServer; clients: VnfClient[] }): void => {
    c.server.close();
    for (const x of c.clients) x.close();
  };

  it("verifies the vNF controller's certificate, presents its own, and relays the controller's flow-mods", async () => {
    // The instance comes first (its credentials need it); nicvisor keeps dialling until its controller is up.
    const port = await freePort();
    await create({ vnf: 'ctl1', tenant: 'acme', ports: [5], channel: { mode: 'connect', target: `ssl:127.0.0.1:${port}` } });
    expect(endpoints.ctl1).toBe(`ssl:127.0.0.1:${port}`);
    const ctl = await tlsController(await credentials('ctl1'), port);
    await until(() => ctl.clients.some((x) => x.got.some((m) => m.type === OFPT.HELLO)), 'nicvisor to connect over TLS', 15_000);
    expect(ctl.peers).toContain('controller:nicvisor');
    const vnf = ctl.clients.find((x) => x.got.some((m) => m.type === OFPT.HELLO))!;
    vnf.send(flowMod({ tableId: 0, priority: 30, match: [{ field: 'in_port', value: 5 }], actions: [output(5)] }));
    await vnf.barrier();
    expect(vnf.errors()).toEqual([]);
    expect(emulatorFlows(app, datapaths.ctl1!).filter((f) => f.tableId === 1 && f.priority === 30)).toHaveLength(1);
    closeAll(ctl);
  }, 30_000);

  it("refuses a controller presenting another vNF's certificate, and one whose certificate was revoked (audited once per reason)", async () => {
    const wrongPort = await freePort();
    const wrong = await tlsController(creds.ctl1!, wrongPort);
    await create({ vnf: 'ctl2', tenant: 'acme', ports: [6], channel: { mode: 'connect', target: `ssl:127.0.0.1:${wrongPort}` } });
    await until(async () => (await tlsAudits('ctl2')).length > 0, 'the wrong controller certificate to be audited');
    expect((await tlsAudits('ctl2'))[0]!.detail).toMatch(/is for vnf "ctl1", not vnf "ctl2"/);
    await sleep(1000); // nicvisor retries meanwhile, with the same refusal
    expect(await tlsAudits('ctl2')).toHaveLength(1);
    expect(wrong.clients.filter((x) => x.got.length > 0)).toEqual([]);
    expect(emulatorFlows(app, datapaths.ctl2!).filter((f) => f.tableId !== 0)).toEqual([]);
    closeAll(wrong);

    const old = creds.ctl1!;
    expect((await call(app, 'DELETE', '/v1/instances/ctl1')).status).toBe(204);
    const port = await freePort();
    const revoked = await tlsController(old, port);
    await create({ vnf: 'ctl1', tenant: 'acme', ports: [5], channel: { mode: 'connect', target: `ssl:127.0.0.1:${port}` } });
    await until(async () => (await tlsAudits('ctl1')).some((e) => /certificate [0-9A-F]+ \(vnf "ctl1"\) was revoked/.test(e.detail)), 'the revoked controller certificate to be audited');
    expect(revoked.clients.filter((x) => x.got.length > 0)).toEqual([]);
    closeAll(revoked);
  }, 30_000);
});

describe('across a restart, and with NICVISOR_REQUIRE_TLS=1', () => {
  it('reuses the CA and the issued serials; instances keep TLS on the same endpoints; plain channels are refused', async () => {
    const caBefore = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    await app.close();
    app = await createApp(loadConfig({ ...testEnv(dir), NICVISOR_REQUIRE_TLS: '1' }), { logger: false });
    expect(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8')).toBe(caBefore);
    const got = await call(app, 'GET', '/v1/instances/fw1');
    expect(got.body.channel).toEqual({ mode: 'listen', endpoint: endpoints.fw1, tls: true });
    // The certificate issued before the restart still works; the other vNF's still does not.
    const c = await vnfOverTls('fw1');
    await c.barrier();
    c.close();
    await expectRefused('fw1', creds.fw2!, /is for vnf "fw2", not vnf "fw1"/);

    const plain = await call(app, 'POST', '/v1/instances', { vnf: 'p1', tenant: 'acme', ports: [10] });
    expect(plain.status).toBe(400);
    expect(plain.body.message).toMatch(/NICVISOR_REQUIRE_TLS=1: delegated channels must use mutual TLS/);
    const plainConnect = await call(app, 'POST', '/v1/instances', { vnf: 'p1', tenant: 'acme', ports: [10], channel: { mode: 'connect', target: 'tcp:127.0.0.1:6633' } });
    expect(plainConnect.status).toBe(400);
    await create({ vnf: 'p1', tenant: 'acme', ports: [10], channel: { mode: 'listen', tls: true } });
    expect(endpoints.p1).toMatch(/^ssl:/);
  }, 30_000);
});

// ---------------------------------------------------------------------------
// An unmodified os-ken app (Debian's python3-os-ken) over TLS, connect mode.

describe('an unmodified os-ken app with --ctl-privkey/--ctl-cert/--ca-certs', () => {
  const manager = osKenManager();
  if (manager === undefined) {
    peerMissing(`python3-os-ken (${DEBIAN_PYTHON} -c 'import os_ken', osken-manager)`, 'apt-get install -y python3-os-ken');
    return;
  }
  let osken: OsKen | undefined;
  afterAll(async () => {
    await osken?.stop();
  });

  it('is dialled over mutual TLS and its table-0 flow lands in physical table 1', async () => {
    const port = await freePort();
    await create({ vnf: 'ids1', tenant: 'globex', ports: [7], channel: { mode: 'connect', target: `ssl:127.0.0.1:${port}` } });
    const c = await credentials('ids1');
    const files = mkdtempSync(join(tmpdir(), 'nicvisor-osken-tls-'));
    const file = (name: string, text: string): string => {
      writeFileSync(join(files, name), text, { mode: 0o600 });
      return join(files, name);
    };
    osken = await startOsKen(manager, fileURLToPath(new URL('./osken_table0_app.py', import.meta.url)), { NICVISOR_OUT_PORT: '7' }, {
      port,
      tls: { privkey: file('ids1.key', c.key), cert: file('ids1.crt', c.cert), caCerts: file('ca.crt', c.ca) },
    });
    expect(osken.target).toBe(endpoints.ids1);
    const landed = () => emulatorFlows(app, datapaths.ids1!).filter((f) => f.tableId === 1 && f.priority === 10);
    try {
      await until(() => landed().length === 1, "the os-ken app's flow in physical table 1", 30_000);
      await until(() => /barrier reply/.test(osken!.output()), 'os-ken to get its barrier reply', 5000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; os-ken said:\n${osken.output()}`);
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
    expect(landed()[0]!.instructions).toEqual([{ type: 4, actions: [expect.objectContaining({ type: 0, port: 7 })] }]);
  }, 60_000);
});
