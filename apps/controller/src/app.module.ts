/**
 * The controller application: the orchestrator API (REST + OpenAPI and the
 * same operations as TCP message patterns) over the OpenFlow core.
 * `createApp(config)` builds and starts it (main.ts and the end-to-end
 * specs use it): one ValidationPipe, one exception filter and the audit
 * interceptor, shared by both transports; the SQLite store in the data
 * directory (instances, tenants, audit log, and the core's shadow), flushed
 * at every barrier, every STORE_FLUSH_INTERVAL_MS and on shutdown.
 */
import type { AddressInfo, Server } from 'node:net';
import { DynamicModule, INestApplication, Logger, LogLevel, Module, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AuditController, AuditRpcController } from './audit/audit.controller.js';
import { AuditInterceptor } from './audit/audit.interceptor.js';
import { AuditService } from './audit/audit.service.js';
import { openflowAuditRecord } from './audit/openflow-audit.js';
import { CONTROLLER_CONFIG, ControllerConfig } from './config.js';
import { HealthController } from './health/health.controller.js';
import { ApiExceptionFilter, validationException } from './instances/api-exception.filter.js';
import { CONTROLLER_STORE, ControllerStore } from './instances/controller-store.js';
import { CoreRuntime } from './instances/core-runtime.js';
import { INSTANCE_RUNTIME, InstanceRuntime } from './instances/instance-runtime.js';
import { InstancesController, InstancesRpcController } from './instances/instances.controller.js';
import { InstancesService } from './instances/instances.service.js';
import { SqliteControllerStore } from './instances/sqlite-store.js';
import { StoreShadowSink } from './openflow/store-sink.js';
import { TenantsController, TenantsRpcController } from './tenants/tenants.controller.js';
import { TenantsService } from './tenants/tenants.service.js';

export interface AppModuleOptions {
  config: ControllerConfig;
  store: ControllerStore;
  runtime: InstanceRuntime;
}

@Module({})
export class AppModule {
  static forRoot(o: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        InstancesController,
        InstancesRpcController,
        TenantsController,
        TenantsRpcController,
        AuditController,
        AuditRpcController,
        HealthController,
      ],
      providers: [
        { provide: CONTROLLER_CONFIG, useValue: o.config },
        { provide: CONTROLLER_STORE, useValue: o.store },
        { provide: INSTANCE_RUNTIME, useValue: o.runtime },
        InstancesService,
        TenantsService,
        AuditService,
        AuditInterceptor,
      ],
    };
  }
}

export interface ControllerApp {
  app: INestApplication;
  /** Bound ports (the configured ones, or the ephemeral ones when configured as 0). */
  httpPort: number;
  rpcPort: number;
  openflowPort: number;
  /** `http://HOST:PORT` */
  url: string;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  /** Default: the SQLite store in config.dataDir (closed with the app). */
  store?: ControllerStore;
  /** Default: the OpenFlow core with the configured NIC driver. */
  runtime?: InstanceRuntime;
  logger?: LogLevel[] | false;
}

/** Batched shadow and audit writes are committed at every barrier, and at least this often (ms). */
export const STORE_FLUSH_INTERVAL_MS = 50;

/** The SQLite store in the data directory (`<dataDir>/nicvisor.db`, created if needed). */
export function openStore(config: ControllerConfig): SqliteControllerStore {
  const log = new Logger('Store');
  return SqliteControllerStore.open(config.dataDir, {
    channelHost: config.channels.host,
    flushIntervalMs: STORE_FLUSH_INTERVAL_MS,
    onFlushError: (e) => log.error(`flush failed (kept queued, retried): ${String(e)}`),
  });
}

/**
 * The OpenFlow core over the store: the shadow persisted through it (when it
 * is the SQLite store), so tenant flows survive a restart and are resynced;
 * every accepted or denied tenant mutation in its audit log.
 */
function createRuntime(config: ControllerConfig, store: ControllerStore): Promise<CoreRuntime> {
  const log = new Logger('OpenFlow');
  return CoreRuntime.create(config, {
    log: (line) => log.log(line),
    ...(store instanceof SqliteControllerStore ? { shadowSink: new StoreShadowSink(store.store, (line) => log.warn(line)) } : {}),
    audit: (e) => store.appendAudit(openflowAuditRecord(e)),
  });
}

/** Builds the application, binds REST and the microservice, and restores the stored instances. */
export async function createApp(config: ControllerConfig, opts: CreateAppOptions = {}): Promise<ControllerApp> {
  const store = opts.store ?? openStore(config);
  let runtime: InstanceRuntime;
  try {
    runtime = opts.runtime ?? (await createRuntime(config, store));
  } catch (e) {
    if (opts.store === undefined) await store.close();
    throw e;
  }
  const app = await NestFactory.create(AppModule.forRoot({ config, store, runtime }), {
    logger: opts.logger ?? ['warn', 'error'],
  });
  try {
    app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, exceptionFactory: validationException }));
    app.useGlobalFilters(new ApiExceptionFilter());
    app.useGlobalInterceptors(app.get(AuditInterceptor));

    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('nicvisor orchestrator API')
        .setDescription('One OpenFlow 1.3 instance per vNF on a smart-NIC, with per-tenant table ownership.')
        .setVersion('0.1.0')
        .build(),
    );
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });

    app.connectMicroservice<MicroserviceOptions>(
      { transport: Transport.TCP, options: { host: config.rpc.host, port: config.rpc.port } },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    await app.listen(config.http.port, config.http.host);
  } catch (e) {
    // e.g. a port in use: the shutdown hooks close the runtime and the store.
    await app.close().catch(() => undefined);
    throw e;
  }

  const httpPort = (app.getHttpServer().address() as AddressInfo).port;
  const rpcPort = (app.getMicroservices()[0]!.unwrap<Server>().address() as AddressInfo).port;
  const openflowPort = runtime instanceof CoreRuntime ? runtime.openflowPort : config.openflow.port;
  return {
    app,
    httpPort,
    rpcPort,
    openflowPort,
    url: `http://${config.http.host}:${httpPort}`,
    close: () => app.close(),
  };
}
