/** GET /healthz: liveness and a summary (not audited, and open: no token needed). */
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.guard.js';
import { CONTROLLER_STORE, type ControllerStore } from '../instances/controller-store.js';
import { INSTANCE_RUNTIME, type InstanceRuntime } from '../instances/instance-runtime.js';

export class HealthView {
  @ApiProperty({ example: 'ok' }) status!: 'ok';
  @ApiProperty({ description: 'Seconds since start' }) uptime!: number;
  @ApiProperty({ description: 'Instances in the store' }) instances!: number;
  @ApiProperty({ description: 'Instances whose NIC session is up' }) connected!: number;
}

@ApiTags('health')
@Controller()
export class HealthController {
  private readonly started = Date.now();

  constructor(
    @Inject(CONTROLLER_STORE) private readonly store: ControllerStore,
    @Inject(INSTANCE_RUNTIME) private readonly runtime: InstanceRuntime,
  ) {}

  @Get('healthz')
  @Public()
  @ApiOperation({ summary: 'Liveness' })
  @ApiOkResponse({ type: HealthView })
  health(): HealthView {
    const instances = this.store.listInstances();
    return {
      status: 'ok',
      uptime: Math.round((Date.now() - this.started) / 1000),
      instances: instances.length,
      connected: instances.filter((i) => this.runtime.connected(i.vnf)).length,
    };
  }
}
