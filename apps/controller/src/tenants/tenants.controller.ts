/** GET /v1/tenants and tenant.list. */
import { Controller, Get } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit.interceptor.js';
import { API_PREFIX, PATTERNS } from '../instances/instances.constants.js';
import { TenantView } from './tenants.dto.js';
import { TenantsService } from './tenants.service.js';

@ApiTags('tenants')
@Controller(`${API_PREFIX}/tenants`)
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @Audited(PATTERNS.TENANT_LIST)
  @ApiOperation({ summary: 'List tenants and their vNFs' })
  @ApiOkResponse({ type: [TenantView] })
  list(): TenantView[] {
    return this.tenants.list();
  }
}

@Controller()
export class TenantsRpcController {
  constructor(private readonly tenants: TenantsService) {}

  @MessagePattern(PATTERNS.TENANT_LIST)
  @Audited(PATTERNS.TENANT_LIST)
  list(): TenantView[] {
    return this.tenants.list();
  }
}
