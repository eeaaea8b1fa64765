/**
 * credentials vnf|node: TLS keys and certificates from the controller's CA,
 * written as files a vNF's controller (`--ctl-privkey/--ctl-cert/--ca-certs`)
 * or a node's configuration relay reads; credentials revoke-node.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { CliError } from './messages.js';
import { Client, enc } from './client.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** What POST …/credentials answers. */
interface Issued {
  identity: string;
  serial: string;
  notAfter: string;
  key: string;
  cert: string;
  ca: string;
}

interface IssueOpts {
  out?: string;
  json?: boolean;
}

/**
 * Writes `name`.key (0600), `name`.crt and ca.crt into `dir`, creating it;
 * refuses to replace a key that is already there.
 */
function save(dir: string, name: string, c: Issued): string[] {
  const keyPath = join(dir, `${name}.key`);
  if (existsSync(keyPath)) throw new CliError(`${keyPath} exists: not replaced`, 'remove it, or give another --out directory');
  mkdirSync(dir, { recursive: true });
  const certPath = join(dir, `${name}.crt`);
  const caPath = join(dir, 'ca.crt');
  writeFileSync(keyPath, c.key, { mode: 0o600 });
  writeFileSync(certPath, c.cert);
  writeFileSync(caPath, c.ca);
  return [keyPath, certPath, caPath];
}

async function issue(cmd: Command, path: string, name: string, o: IssueOpts): Promise<void> {
  if (o.out === undefined && !o.json) throw new CliError('say where the key goes: --out DIR', 'or give --json to print it (key included) instead');
  const c = await Client.of(cmd).request<Issued>('POST', path);
  if (o.json) out(JSON.stringify(c));
  if (o.out === undefined) return;
  const files = save(o.out, name, c);
  if (o.json) return;
  out(`identity:  ${c.identity}`);
  out(`serial:    ${c.serial}`);
  out(`not after: ${c.notAfter}`);
  out(`key:       ${files[0]} (0600)`);
  out(`cert:      ${files[1]}`);
  out(`ca:        ${files[2]}`);
}

export function credentialsCommand(): Command {
  const credentials = new Command('credentials').description("keys and certificates from the controller's CA, for TLS channels and relays");
  credentials
    .command('vnf')
    .description("issue a key and certificate for the vNF's TLS channel (revoked when its instance is deleted)")
    .argument('<vnf|dpid>')
    .option('--out <dir>', 'write <vnf>.key (0600), <vnf>.crt and ca.crt there')
    .option('--json', 'print the API JSON, key included')
    .action(async (ref: string, o: IssueOpts, cmd: Command) => {
      const i = await Client.of(cmd).resolve(ref);
      await issue(cmd, `/v1/instances/${enc(i.vnf)}/credentials`, i.vnf, o);
    });
  credentials
    .command('node')
    .description("issue a key and certificate for a compute node's configuration relay")
    .argument('<node>')
    .option('--out <dir>', 'write <node>.key (0600), <node>.crt and ca.crt there')
    .option('--json', 'print the API JSON, key included')
    .action((node: string, o: IssueOpts, cmd: Command) => issue(cmd, `/v1/nodes/${enc(node)}/credentials`, node, o));
  credentials
    .command('revoke-node')
    .description("revoke every certificate issued for a node's relay")
    .argument('<node>')
    .action(async (node: string, _o: unknown, cmd: Command) => {
      const r = await Client.of(cmd).request<{ revoked: number }>('DELETE', `/v1/nodes/${enc(node)}/credentials`);
      out(`revoked ${r.revoked} certificate${r.revoked === 1 ? '' : 's'} of node ${node}`);
    });
  return credentials;
}
