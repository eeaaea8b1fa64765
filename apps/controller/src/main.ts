/**
 * The controller: `npm start` (embedded emulated NIC, 16 ports) or
 * `npm run start:controller`. Configuration from NICVISOR_* variables (see
 * config.ts); a bad value is reported and the process exits with 1.
 * SIGTERM / SIGINT close the delegated channels and flush the store.
 * With no API tokens configured (the demo), the admin token generated into
 * the data directory is printed once, when created, in the first curl.
 */
import 'reflect-metadata';
import { createApp, type ControllerApp } from './app.module.js';
import { ConfigError, describeNic, loadConfig } from './config.js';
import { relayDemoEnv, startDemoRelay } from '../../relay/src/demo.js';

/** `npm start -- --with-relay`: a configuration relay for node1 in the demo (apps/relay/src/demo.ts). */
const WITH_RELAY = process.argv.includes('--with-relay');

/** The banner's token line and the Authorization header of its curl (the token itself only when just generated). */
function tokenHint(c: ControllerApp): { line: string; header: string } {
  const a = c.auth;
  if (a.config.source !== 'generated') {
    const { tokens, source, file } = a.config;
    const n = (scope: string) => tokens.filter((t) => t.scope === scope).length;
    return { line: `${n('admin')} admin and ${n('read')} read token(s) from ${source === 'env' ? 'NICVISOR_API_TOKENS' : file}`, header: `"authorization: Bearer $NICVISOR_TOKEN"` };
  }
  if (a.createdToken !== undefined) {
    return { line: `${a.createdToken}  (admin; generated now and shown only now; kept in ${a.config.file}, mode 0600)`, header: `'authorization: Bearer ${a.createdToken}'` };
  }
  return { line: `admin token in ${a.config.file} (NICVISOR_TOKEN=$(cut -d: -f2 ${a.config.file}))`, header: `"authorization: Bearer $(cut -d: -f2 ${a.config.file})"` };
}

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(WITH_RELAY ? relayDemoEnv(process.env) : process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`nicvisor: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  let c: ControllerApp;
  try {
    c = await createApp(config);
  } catch (e) {
    // e.g. an unreadable generated token file
    if (e instanceof ConfigError) {
      process.stderr.write(`nicvisor: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const token = tokenHint(c);
  c.app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const nic = describeNic(config.nic);
  const { first, last } = config.channels.ports;
  const lines = [
    `nicvisor: REST API      ${c.url}  (OpenAPI: ${c.url}/docs, JSON: ${c.url}/docs-json)`,
    `nicvisor: microservice  tcp:${config.rpc.host}:${c.rpcPort}`,
    `nicvisor: NIC listener  tcp:${config.openflow.host}:${c.openflowPort}${config.openflow.unixPath === undefined ? '' : ` unix:${config.openflow.unixPath}`}  NIC: ${nic}`,
    `nicvisor: vNF channels  ${first === 0 ? 'ephemeral ports' : `${first}-${last}`}  data: ${config.dataDir}`,
    `nicvisor: API token     ${token.line}`,
    `nicvisor: try           curl -s -X POST ${c.url}/v1/instances -H ${token.header} -H 'content-type: application/json' -d '{"vnf":"fw1","tenant":"acme","ports":[1,2]}'`,
  ];
  if (WITH_RELAY) lines.push(...(await startDemoRelay(c, config.dataDir, config.channels.host, token.header)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`nicvisor: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
