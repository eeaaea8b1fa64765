/**
 * The controller: `npm start` (embedded emulated NIC, 16 ports) or
 * `npm run start:controller`. Configuration from NICVISOR_* variables (see
 * config.ts); a bad value is reported and the process exits with 1.
 * SIGTERM / SIGINT close the delegated channels and flush the store.
 */
import 'reflect-metadata';
import { createApp } from './app.module.js';
import { ConfigError, loadConfig } from './config.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`nicvisor: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const c = await createApp(config);
  c.app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const nic = config.nic.kind === 'embedded' ? `embedded emulated NIC (${config.nic.ports} ports)` : `tcp:${config.nic.host}:${config.nic.port}`;
  const { first, last } = config.channels.ports;
  const lines = [
    `nicvisor: REST API      ${c.url}  (OpenAPI: ${c.url}/docs, JSON: ${c.url}/docs-json)`,
    `nicvisor: microservice  tcp:${config.rpc.host}:${c.rpcPort}`,
    `nicvisor: NIC listener  tcp:${config.openflow.host}:${c.openflowPort}  NIC: ${nic}`,
    `nicvisor: vNF channels  ${first === 0 ? 'ephemeral ports' : `${first}-${last}`}  data: ${config.dataDir}`,
    `nicvisor: try           curl -s -X POST ${c.url}/v1/instances -H 'content-type: application/json' -d '{"vnf":"fw1","tenant":"acme","ports":[1,2]}'`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`nicvisor: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
