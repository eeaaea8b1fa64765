/** GET /v1/audit and audit.query: the audit log, filtered by vNF, tenant and time. */
import { Controller, Get, Query } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_PREFIX, PATTERNS } from '../instances/instances.constants.js';
import type { AuditRecord } from '../instances/controller-store.js';
import { AuditEntryView, AuditQueryDto } from './audit.dto.js';
import { Audited } from './audit.interceptor.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@Controller(`${API_PREFIX}/audit`)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Audited(PATTERNS.AUDIT_QUERY)
  @ApiOperation({ summary: 'Query the audit log of orchestrator calls' })
  @ApiOkResponse({ type: [AuditEntryView] })
  query(@Query() q: AuditQueryDto): AuditRecord[] {
    return this.audit.query(q);
  }
}

@Controller()
export class AuditRpcController {
  constructor(private readonly audit: AuditService) {}

  @MessagePattern(PATTERNS.AUDIT_QUERY)
  @Audited(PATTERNS.AUDIT_QUERY)
  query(@Payload() q: AuditQueryDto): AuditRecord[] {
    return this.audit.query(q);
  }
}
