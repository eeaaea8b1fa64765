/**
 * nicvisor's certificate authority for delegated channels (mutual TLS).
 *
 * One EC P-256 CA per data directory (`<dataDir>/pki`, 0700): its key
 * (`ca.key`, 0600) and certificate (`ca.crt`) are created on the first start
 * and reused after. It issues
 *  - a vNF's credentials (`POST /v1/instances/:vnf/credentials`): subject
 *    CN=<vnf>, SAN URI `urn:nicvisor:vnf:<vnf>`;
 *  - a compute node's credentials, for its configuration relay: CN=<node>,
 *    SAN URI `urn:nicvisor:node:<node>`;
 *  - nicvisor's own certificate (SAN URI `urn:nicvisor:controller`), issued
 *    afresh at every start, presented on TLS listen endpoints and when
 *    dialling a vNF controller.
 * Every issued serial is recorded (`issued.json`, 0600) with whom it names;
 * deleting an instance revokes its serials, and a revoked serial is refused
 * at every later handshake. Certificates are built by @peculiar/x509 over
 * Node's WebCrypto; nothing here encodes ASN.1 by hand.
 */
import { randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { ChannelTls } from '../openflow/delegated-channel.js';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type IdentityKind = 'vnf' | 'node' | 'controller';

/** The SAN URI naming an identity: `urn:nicvisor:vnf:fw1`. */
export function identityUri(kind: IdentityKind, name: string): string {
  return kind === 'controller' ? 'urn:nicvisor:controller' : `urn:nicvisor:${kind}:${name}`;
}

const EC: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
/** Default lifetime of issued credentials. */
export const CREDENTIALS_DAYS = 365;

/** A key and certificate as PEM, with the CA certificate peers chain to. */
export interface Credentials {
  /** PKCS#8 private key, PEM. */
  key: string;
  cert: string;
  ca: string;
  /** Upper-case hex, as OpenSSL and Node print it. */
  serial: string;
  notBefore: string;
  notAfter: string;
}

interface IssuedEntry {
  serial: string;
  kind: IdentityKind;
  name: string;
  notAfter: string;
  revokedAt?: string;
}

/** Who a verified peer certificate names. */
export interface PeerIdentity {
  kind: IdentityKind;
  name: string;
  serial: string;
}

function writePrivate(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** A positive serial without a leading zero byte (DER integers are minimal). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex').toUpperCase();
}

export class CertificateAuthority {
  private readonly issued: Map<string, IssuedEntry>;

  private constructor(
    private readonly dir: string,
    private readonly caKey: CryptoKey,
    private readonly caCert: x509.X509Certificate,
    /** nicvisor's own credentials (issued at open). */
    private own: Credentials | undefined,
    issued: IssuedEntry[],
  ) {
    this.issued = new Map(issued.map((e) => [e.serial, e]));
  }

  /** Opens the CA in `dir`, creating its key and certificate on first use. */
  static async open(dir: string): Promise<CertificateAuthority> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const keyPath = join(dir, 'ca.key');
    const certPath = join(dir, 'ca.crt');
    const issuedPath = join(dir, 'issued.json');
    let caKey: CryptoKey;
    let caCert: x509.X509Certificate;
    if (existsSync(keyPath) && existsSync(certPath)) {
      const der = x509.PemConverter.decodeFirst(readFileSync(keyPath, 'utf8'));
      caKey = await webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
      caCert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
    } else {
      const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
      const now = Date.now();
      caCert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: newSerial(),
        name: 'CN=nicvisor CA',
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + 10 * 365 * DAY_MS),
        keys,
        signingAlgorithm: SIGNING,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      writePrivate(keyPath, x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'));
      writeFileSync(certPath, caCert.toString('pem'));
      caKey = keys.privateKey;
    }
    const issued = existsSync(issuedPath) ? (JSON.parse(readFileSync(issuedPath, 'utf8')) as IssuedEntry[]) : [];
    const ca = new CertificateAuthority(dir, caKey, caCert, undefined, issued);
    ca.own = await ca.issue('controller', 'nicvisor');
    return ca;
  }

  /** The CA certificate, PEM. */
  get caPem(): string {
    return this.caCert.toString('pem');
  }

  /** nicvisor's own key and certificate (with the CA), for TLS endpoints and dialling. */
  get controller(): Credentials {
    return this.own!;
  }

  /**
   * Issues a key and certificate naming `kind:name` (CN and SAN URI), usable
   * as client and server (a vNF is the client on a listen endpoint and the
   * server in connect mode). `validity` defaults to now .. now + CREDENTIALS_DAYS.
   */
  async issue(kind: IdentityKind, name: string, validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<Credentials> {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
    const notBefore = validity.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = validity.notAfter ?? new Date(notBefore.getTime() + CREDENTIALS_DAYS * DAY_MS);
    const serial = newSerial();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `CN=${name}`,
      issuer: this.caCert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.caKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identityUri(kind, name) }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    if (kind !== 'controller') {
      this.issued.set(serial, { serial, kind, name, notAfter: notAfter.toISOString() });
      this.save();
    }
    return {
      key: x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
      cert: cert.toString('pem'),
      ca: this.caPem,
      serial,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
    };
  }

  /** Revokes every certificate issued for `kind:name`; returns how many were revoked. */
  revoke(kind: IdentityKind, name: string): number {
    const at = new Date().toISOString();
    let n = 0;
    for (const e of this.issued.values()) {
      if (e.kind === kind && e.name === name && e.revokedAt === undefined) {
        e.revokedAt = at;
        n++;
      }
    }
    if (n > 0) this.save();
    return n;
  }

  isRevoked(serial: string): boolean {
    return this.issued.get(serial.toUpperCase())?.revokedAt !== undefined;
  }

  /**
   * Why a peer certificate (its chain and dates already verified by the TLS
   * handshake against this CA) may not speak for `kind:name`; undefined
   * when it may.
   */
  refusal(peer: NodeX509 | undefined, kind: IdentityKind, name: string): string | undefined {
    if (peer === undefined) return 'no client certificate';
    const id = peerIdentity(peer);
    if (id === undefined) return `certificate ${peer.serialNumber} names no nicvisor identity (no urn:nicvisor: SAN URI)`;
    if (this.isRevoked(id.serial)) return `certificate ${id.serial} (${id.kind} "${id.name}") was revoked`;
    if (id.kind !== kind || id.name !== name) return `certificate ${id.serial} is for ${id.kind} "${id.name}", not ${kind} "${name}"`;
    return undefined;
  }

  /** What delegated channels need: nicvisor's credentials, and a vNF certificate check. */
  channelTls(): ChannelTls {
    return { credentials: this.controller, refusal: (peer, vnf) => this.refusal(peer, 'vnf', vnf) };
  }

  /** The compute node a relay's certificate (chain and dates verified by the handshake) names, or why it is refused. */
  nodeOf(peer: NodeX509): { node: string } | { refused: string } {
    const id = peerIdentity(peer);
    if (id === undefined || id.kind !== 'node') return { refused: `certificate ${peer.serialNumber} does not name a node` };
    if (this.isRevoked(id.serial)) return { refused: `certificate ${id.serial} (node "${id.name}") was revoked` };
    return { node: id.name };
  }

  private save(): void {
    writePrivate(join(this.dir, 'issued.json'), `${JSON.stringify([...this.issued.values()], null, 1)}\n`);
  }
}

/** The nicvisor identity a certificate's SAN URI names (CN must agree). */
export function peerIdentity(cert: NodeX509): PeerIdentity | undefined {
  const m = /(?:^|, )URI:urn:nicvisor:(vnf|node|controller)(?::([A-Za-z0-9._-]+))?(?:,|$)/.exec(cert.subjectAltName ?? '');
  if (m === null) return undefined;
  const kind = m[1] as IdentityKind;
  const name = kind === 'controller' ? 'nicvisor' : m[2];
  if (name === undefined) return undefined;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (cn !== name) return undefined;
  return { kind, name, serial: cert.serialNumber.toUpperCase() };
}
