/**
 * The orchestrator API for instances: REST under /v1/instances and the same
 * operations as TCP message patterns. Thin: one service call per handler;
 * validation by the global ValidationPipe, errors by ApiExceptionFilter,
 * audit by AuditInterceptor.
 */
import { Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { map, Observable } from 'rxjs';
import { Audited } from '../audit/audit.interceptor.js';
import type { HttpResponseLike } from './api-exception.filter.js';
import type { FlowJson } from './flow-json.js';
import { ACTIONS, API_PREFIX, PATTERNS } from './instances.constants.js';
import {
  CreateInstanceDto,
  FlowModifyView,
  InjectFrameDto,
  InjectView,
  InstanceView,
  OperatorFlowDeleteDto,
  OperatorFlowDto,
  OperatorFlowModifyDto,
  OperatorGroupDeleteDto,
  OperatorGroupDto,
  OperatorMeterDeleteDto,
  OperatorMeterDto,
  PortView,
  UpdateInstanceDto,
  UpdateInstanceRpcDto,
  ViewQueryDto,
  VnfRefDto,
} from './instances.dto.js';
import { InstancesService } from './instances.service.js';

@ApiTags('instances')
@Controller(`${API_PREFIX}/instances`)
@ApiBadRequestResponse({ description: 'Invalid request: the body names the field' })
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Post()
  @Audited(PATTERNS.INSTANCE_CREATE)
  @ApiOperation({ summary: "Create a vNF's instance (idempotent: the same body again answers 200)" })
  @ApiCreatedResponse({ type: InstanceView, description: 'Created' })
  @ApiOkResponse({ type: InstanceView, description: 'Already created with the same body' })
  @ApiConflictResponse({ description: 'The vNF exists with a different body, or a port belongs to another vNF' })
  async create(@Body() dto: CreateInstanceDto, @Res({ passthrough: true }) res: HttpResponseLike): Promise<InstanceView> {
    const { created, instance } = await this.instances.create(dto);
    if (!created) res.status(200);
    return instance;
  }

  @Get()
  @Audited(PATTERNS.INSTANCE_LIST)
  @ApiOperation({ summary: 'List instances' })
  @ApiOkResponse({ type: [InstanceView] })
  list(): InstanceView[] {
    return this.instances.list();
  }

  @Get(':vnf')
  @Audited(PATTERNS.INSTANCE_GET)
  @ApiOperation({ summary: "A vNF's instance" })
  @ApiParam({ name: 'vnf' })
  @ApiOkResponse({ type: InstanceView })
  @ApiNotFoundResponse()
  get(@Param('vnf') vnf: string): InstanceView {
    return this.instances.get(vnf);
  }

  @Patch(':vnf')
  @Audited(PATTERNS.INSTANCE_UPDATE)
  @ApiOperation({ summary: 'Change the attached ports or the quotas' })
  @ApiOkResponse({ type: InstanceView })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'A port belongs to another vNF' })
  update(@Param('vnf') vnf: string, @Body() dto: UpdateInstanceDto): Promise<InstanceView> {
    return this.instances.update(vnf, dto);
  }

  @Delete(':vnf')
  @HttpCode(204)
  @Audited(PATTERNS.INSTANCE_DELETE)
  @ApiOperation({ summary: 'Delete the instance: its flows, NIC instance, channel and ports are freed' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  remove(@Param('vnf') vnf: string): Promise<void> {
    return this.instances.remove(vnf);
  }

  @Get(':vnf/flows')
  @Audited(ACTIONS.INSTANCE_FLOWS)
  @ApiOperation({ summary: 'Flows: physical view with owners, or ?view=vnf for what the vNF sees' })
  @ApiOkResponse({ description: '[{owner, text, flow}]' })
  flows(@Param('vnf') vnf: string, @Query() q: ViewQueryDto): Promise<FlowJson[]> {
    return this.instances.flows(vnf, q.view);
  }

  @Post(':vnf/flows')
  @Audited(ACTIONS.OPERATOR_FLOW_ADD)
  @ApiOperation({
    summary: 'Add an operator flow (operator tables only; cookie in the operator namespace)',
    description: 'The flow as JSON fields, or as ovs-ofctl text: {"flow": "table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:1"}. A syntax error is a 400 with field "flow", the bad token and its position.',
  })
  @ApiCreatedResponse({ description: "The instance's operator flows after the change" })
  @ApiNotFoundResponse()
  addFlow(@Param('vnf') vnf: string, @Body() dto: OperatorFlowDto): Promise<FlowJson[]> {
    return this.instances.addOperatorFlow(vnf, dto);
  }

  @Patch(':vnf/flows')
  @Audited(ACTIONS.OPERATOR_FLOW_MODIFY)
  @ApiOperation({
    summary: 'Modify operator flows in place (OFPFC_MODIFY, or MODIFY_STRICT with strict): new instructions, counters kept',
    description: 'JSON fields (table, priority, match, cookie select; instructions are the new ones) or ovs-ofctl text: {"flow": "in_port=3,actions=goto_table:2", "strict": false}; text without table= covers every operator table.',
  })
  @ApiOkResponse({ type: FlowModifyView })
  @ApiNotFoundResponse()
  modifyFlows(@Param('vnf') vnf: string, @Body() dto: OperatorFlowModifyDto): Promise<{ modified: number; flows: FlowJson[] }> {
    return this.instances.modifyOperatorFlows(vnf, dto);
  }

  @Delete(':vnf/flows')
  @Audited(ACTIONS.OPERATOR_FLOW_DELETE)
  @ApiOperation({
    summary: 'Delete operator flows matching the body (strict: exact priority and match)',
    description: 'JSON fields, or an ovs-ofctl filter: {"filter": "table=0,in_port=3", "strict": false}; a filter without table= covers every operator table.',
  })
  @ApiOkResponse({ description: "The instance's operator flows after the change" })
  @ApiNotFoundResponse()
  deleteFlows(@Param('vnf') vnf: string, @Body() dto: OperatorFlowDeleteDto): Promise<FlowJson[]> {
    return this.instances.deleteOperatorFlows(vnf, dto);
  }

  @Get(':vnf/tables')
  @Audited(ACTIONS.INSTANCE_TABLES)
  @ApiOperation({ summary: 'Table stats with owners (?view=vnf: its tables, its numbering)' })
  tables(@Param('vnf') vnf: string, @Query() q: ViewQueryDto): Promise<unknown[]> {
    return this.instances.entries(vnf, 'tables', q.view);
  }

  @Get(':vnf/groups')
  @Audited(ACTIONS.INSTANCE_GROUPS)
  @ApiOperation({ summary: 'Groups with owners' })
  groups(@Param('vnf') vnf: string, @Query() q: ViewQueryDto): Promise<unknown[]> {
    return this.instances.entries(vnf, 'groups', q.view);
  }

  @Post(':vnf/groups')
  @Audited(ACTIONS.OPERATOR_GROUP_ADD)
  @ApiOperation({ summary: "Add an operator group (OFPGC_ADD; its id in the operator's reserved range)", description: 'NIC refusals are 400s with the OpenFlow error names (ofp.type, ofp.code).' })
  @ApiCreatedResponse({ description: "The instance's operator groups after the change" })
  @ApiNotFoundResponse()
  addGroup(@Param('vnf') vnf: string, @Body() dto: OperatorGroupDto): Promise<unknown[]> {
    return this.instances.addOperatorGroup(vnf, dto);
  }

  @Delete(':vnf/groups')
  @Audited(ACTIONS.OPERATOR_GROUP_DELETE)
  @ApiOperation({ summary: "Delete an operator group, or all of the operator's (no groupId, or OFPG_ALL); the tenant's groups are never touched" })
  @ApiOkResponse({ description: "The instance's operator groups after the change" })
  @ApiNotFoundResponse()
  deleteGroups(@Param('vnf') vnf: string, @Body() dto: OperatorGroupDeleteDto): Promise<unknown[]> {
    return this.instances.deleteOperatorGroups(vnf, dto);
  }

  @Get(':vnf/meters')
  @Audited(ACTIONS.INSTANCE_METERS)
  @ApiOperation({ summary: 'Meters with owners' })
  meters(@Param('vnf') vnf: string, @Query() q: ViewQueryDto): Promise<unknown[]> {
    return this.instances.entries(vnf, 'meters', q.view);
  }

  @Post(':vnf/meters')
  @Audited(ACTIONS.OPERATOR_METER_ADD)
  @ApiOperation({ summary: "Add an operator meter (OFPMC_ADD; its id in the operator's reserved range)", description: 'NIC refusals are 400s with the OpenFlow error names (ofp.type, ofp.code).' })
  @ApiCreatedResponse({ description: "The instance's operator meters after the change" })
  @ApiNotFoundResponse()
  addMeter(@Param('vnf') vnf: string, @Body() dto: OperatorMeterDto): Promise<unknown[]> {
    return this.instances.addOperatorMeter(vnf, dto);
  }

  @Delete(':vnf/meters')
  @Audited(ACTIONS.OPERATOR_METER_DELETE)
  @ApiOperation({ summary: "Delete an operator meter, or all of the operator's (no meterId, or OFPM_ALL); the tenant's meters are never touched" })
  @ApiOkResponse({ description: "The instance's operator meters after the change" })
  @ApiNotFoundResponse()
  deleteMeters(@Param('vnf') vnf: string, @Body() dto: OperatorMeterDeleteDto): Promise<unknown[]> {
    return this.instances.deleteOperatorMeters(vnf, dto);
  }

  @Get(':vnf/ports')
  @Audited(ACTIONS.INSTANCE_PORTS)
  @ApiOperation({ summary: "The instance's ports: each description (ofp_port) with its counters (ofp_port_stats, read from the NIC)" })
  @ApiOkResponse({ type: [PortView] })
  @ApiNotFoundResponse()
  ports(@Param('vnf') vnf: string): Promise<unknown[]> {
    return this.instances.ports(vnf);
  }

  @Post(':vnf/ports/:port/inject')
  @HttpCode(200)
  @Audited(ACTIONS.INSTANCE_PORT_INJECT)
  @ApiOperation({ summary: "Test traffic: a frame arrives on one of the instance's ports, as if from the wire; it goes through the instance's pipeline" })
  @ApiParam({ name: 'port', description: 'One of the instance\'s ports (its NIC port number)' })
  @ApiOkResponse({ type: InjectView })
  @ApiNotFoundResponse()
  inject(@Param('vnf') vnf: string, @Param('port', ParseIntPipe) port: number, @Body() dto: InjectFrameDto): Promise<InjectView> {
    return this.instances.inject(vnf, port, dto.frame);
  }

  @Sse(':vnf/events')
  @Audited(ACTIONS.INSTANCE_EVENTS)
  @ApiOperation({ summary: 'Server-sent events: flow added / removed / modified, counters' })
  @ApiProduces('text/event-stream')
  events(@Param('vnf') vnf: string): Observable<MessageEvent> {
    return this.instances.events(vnf).pipe(map((e) => ({ type: e.type, data: e.data })));
  }
}

/** The same operations as TCP message patterns (see PATTERNS). */
@Controller()
export class InstancesRpcController {
  constructor(private readonly instances: InstancesService) {}

  /** `{created, instance}`: created false when the same request was made before. */
  @MessagePattern(PATTERNS.INSTANCE_CREATE)
  @Audited(PATTERNS.INSTANCE_CREATE)
  create(@Payload() dto: CreateInstanceDto): Promise<{ created: boolean; instance: InstanceView }> {
    return this.instances.create(dto);
  }

  @MessagePattern(PATTERNS.INSTANCE_GET)
  @Audited(PATTERNS.INSTANCE_GET)
  get(@Payload() ref: VnfRefDto): InstanceView {
    return this.instances.get(ref.vnf);
  }

  @MessagePattern(PATTERNS.INSTANCE_LIST)
  @Audited(PATTERNS.INSTANCE_LIST)
  list(): InstanceView[] {
    return this.instances.list();
  }

  @MessagePattern(PATTERNS.INSTANCE_UPDATE)
  @Audited(PATTERNS.INSTANCE_UPDATE)
  update(@Payload() dto: UpdateInstanceRpcDto): Promise<InstanceView> {
    const { vnf, ...changes } = dto;
    return this.instances.update(vnf, changes);
  }

  @MessagePattern(PATTERNS.INSTANCE_DELETE)
  @Audited(PATTERNS.INSTANCE_DELETE)
  async remove(@Payload() ref: VnfRefDto): Promise<{ deleted: string }> {
    await this.instances.remove(ref.vnf);
    return { deleted: ref.vnf };
  }
}
