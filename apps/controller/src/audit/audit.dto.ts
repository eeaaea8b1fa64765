/** The audit query (GET /v1/audit, audit.query) and the entries it returns. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN } from '../instances/instances.dto.js';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Only entries about this vNF.', example: 'fw1' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'vnf must be a vNF name' })
  vnf?: string;

  @ApiPropertyOptional({ description: 'Only entries about this tenant.', example: 'acme' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'tenant must be a tenant name' })
  tenant?: string;

  @ApiPropertyOptional({ description: 'Only entries at or after this ISO 8601 time.', example: '2026-11-23T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 time' })
  since?: string;

  @ApiPropertyOptional({ description: 'At most this many entries, newest last (default 1000).', minimum: 1, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit?: number;
}

export class AuditEntryView {
  @ApiProperty({ required: false }) id?: number;
  @ApiProperty({ description: 'ISO time' }) at!: string;
  @ApiProperty({ description: 'Who: "rest 127.0.0.1", "rpc", or "openflow VNF" for a tenant mutation through its channel' }) actor!: string;
  @ApiProperty({ description: 'The operation, e.g. instance.create, openflow.flow-mod' }) action!: string;
  @ApiProperty({ required: false }) vnf?: string;
  @ApiProperty({ required: false }) tenant?: string;
  @ApiProperty({ required: false, type: Object }) request?: unknown;
  @ApiProperty({ description: '"ok", "denied" (refused by the ownership policy) or the error' }) result!: string;
  @ApiProperty({ required: false, description: 'HTTP-style status of an orchestrator call' }) status?: number;
  @ApiProperty({ required: false }) detail?: string;
  @ApiProperty({ required: false, description: 'Tenant mutations: messages the entry stands for (accepted ones are aggregated per barrier)' }) count?: number;
}
