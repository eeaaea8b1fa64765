/**
 * Request and reply shapes of the orchestrator API, shared by REST and the
 * TCP message patterns. Requests are classes validated by class-validator
 * through the global ValidationPipe({ transform: true, whitelist: true }):
 * a bad field is a 400 naming it (`channel.mode must be one of …`).
 */
import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OPERATOR_GROUPS, OPERATOR_METERS } from '@nicvisor/tenancy';
import { Type } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmpty,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';

/** vNF and tenant names: they appear in URLs, so a conservative alphabet. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_MESSAGE = (field: string): string => `${field} must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`;
/** Highest physical port number (OFPP_MAX). */
export const MAX_PORT = 0xffffff00;
/** A connect target: `tcp:HOST:PORT`, or `ssl:HOST:PORT` for mutual TLS (Open vSwitch's names). */
export const CHANNEL_TARGET_PATTERN = /^(?:tcp|ssl):[A-Za-z0-9.\-:[\]]+:\d{1,5}$/;

export const CHANNEL_MODES = ['listen', 'connect'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

export class TablesDto {
  @ApiPropertyOptional({ description: 'Physical tables owned by the operator (default [0]).', type: [Number], example: [0] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(254, { each: true })
  operator?: number[];

  @ApiPropertyOptional({ description: "Physical tables owned by the vNF's tenant (default 1..T-1).", type: [Number], example: [1, 2, 3] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(254, { each: true })
  tenant?: number[];

  @ApiPropertyOptional({ description: 'The vNF sees its own tables as 0..k-1 (default true).', default: true })
  @IsOptional()
  @IsBoolean()
  virtual?: boolean;

  @ApiPropertyOptional({ description: 'T, the number of physical tables (default 64, or one past the highest listed table when both lists are given).', minimum: 1, maximum: 255 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(255)
  count?: number;
}

export class QuotasDto {
  @ApiPropertyOptional({ description: 'Maximum flow entries the tenant may install (default 4096).', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxFlows?: number;

  @ApiPropertyOptional({ description: 'Maximum groups (default 256).', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxGroups?: number;

  @ApiPropertyOptional({ description: 'Maximum meters (default 64).', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxMeters?: number;

  @ApiPropertyOptional({ description: 'Packet-ins relayed to the vNF per second (default 1000).', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  packetInsPerSecond?: number;
}

export class ChannelDto {
  @ApiProperty({ enum: CHANNEL_MODES, description: 'listen: nicvisor opens a TCP endpoint for the vNF; connect: nicvisor dials the vNF controller.' })
  @IsIn(CHANNEL_MODES)
  mode!: ChannelMode;

  @ApiPropertyOptional({ description: 'The vNF controller, tcp:HOST:PORT, or ssl:HOST:PORT for mutual TLS (connect mode only).', example: 'tcp:127.0.0.1:6633' })
  @ValidateIf((o: ChannelDto) => o.mode === 'connect' || o.target !== undefined)
  @IsString()
  @Matches(CHANNEL_TARGET_PATTERN, { message: 'channel.target must be tcp:HOST:PORT or ssl:HOST:PORT' })
  target?: string;

  @ApiPropertyOptional({
    description:
      "Mutual TLS with certificates of nicvisor's CA (POST /v1/instances/:vnf/credentials). listen: the endpoint (ssl:HOST:PORT) requires the vNF's certificate; connect: give the target as ssl:HOST:PORT (tls may be omitted).",
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  tls?: boolean;
}

export class CreateInstanceDto {
  @ApiProperty({ description: 'The vNF this instance is for (unique).', example: 'fw1', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('vnf') })
  vnf!: string;

  @ApiProperty({ description: "The vNF's tenant.", example: 'acme', pattern: NAME_PATTERN.source })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('tenant') })
  tenant!: string;

  @ApiProperty({ description: 'NIC ports to attach (each to one vNF at most); the vNF sees them under the same numbers.', type: [Number], example: [1, 2] })
  @IsArray()
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_PORT, { each: true })
  ports!: number[];

  @ApiPropertyOptional({ description: 'The NIC (default "embedded").', example: 'embedded' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('nic') })
  nic?: string;

  @ApiPropertyOptional({ type: TablesDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => TablesDto)
  tables?: TablesDto;

  @ApiPropertyOptional({ type: QuotasDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotasDto)
  quotas?: QuotasDto;

  @ApiPropertyOptional({ description: "The compute node the vNF runs on: that node's configuration relay may carry its channel (apps/relay).", example: 'node1', pattern: NAME_PATTERN.source })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('node') })
  node?: string;

  @ApiPropertyOptional({ type: ChannelDto, description: 'Default {"mode":"listen"}.' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ChannelDto)
  channel?: ChannelDto;
}

export class UpdateInstanceDto {
  @ApiPropertyOptional({ description: 'The new set of attached NIC ports.', type: [Number], example: [1, 2, 3] })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_PORT, { each: true })
  ports?: number[];

  @ApiPropertyOptional({ type: QuotasDto, description: 'Quotas to change (the others are kept).' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => QuotasDto)
  quotas?: QuotasDto;
}

/** `{ vnf }`: the payload of instance.get / instance.delete. */
export class VnfRefDto {
  @ApiProperty({ example: 'fw1' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('vnf') })
  vnf!: string;
}

/** The payload of instance.update: the vNF and the changes. */
export class UpdateInstanceRpcDto extends UpdateInstanceDto {
  @ApiProperty({ example: 'fw1' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE('vnf') })
  vnf!: string;
}

export const VIEWS = ['physical', 'vnf'] as const;
export type ViewKind = (typeof VIEWS)[number];

export class ViewQueryDto {
  @ApiPropertyOptional({ enum: VIEWS, default: 'physical', description: "physical: every entry with its owner; vnf: what the vNF sees, in its table numbering." })
  @IsOptional()
  @IsIn(VIEWS)
  view?: ViewKind;
}

/** The operator's reserved group and meter ids (libs/tenancy), as text for messages and docs. */
export const OPERATOR_GROUP_RANGE = `0x${OPERATOR_GROUPS.first.toString(16)}-0x${OPERATOR_GROUPS.last.toString(16)}`;
export const OPERATOR_METER_RANGE = `0x${OPERATOR_METERS.first.toString(16)}-0x${OPERATOR_METERS.last.toString(16)}`;

/**
 * The JSON fields of an operator flow-mod, the codec's toJson shape:
 * `match` is a list of `{field, value, mask?}` OXM fields ("IN_PORT",
 * "ETH_TYPE", …), `instructions` a list of `{type: "GOTO_TABLE" |
 * "APPLY_ACTIONS" | …}`. Cookies are decimal strings or numbers; the
 * operator cookie namespace is applied by nicvisor.
 */
export class OperatorFlowFieldsDto {
  @ApiPropertyOptional({ description: 'Physical table (an operator table; default 0).', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(254)
  tableId?: number;

  @ApiPropertyOptional({ description: 'Priority (default 32768).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  priority?: number;

  @ApiPropertyOptional({ description: 'Low 48 bits of the cookie (nicvisor sets the operator namespace in the top 16 bits).', example: '7' })
  @IsOptional()
  @Matches(/^\d{1,15}$/, { message: 'cookie must be a decimal integer below 2^48' })
  @Type(() => String)
  cookie?: string;

  @ApiPropertyOptional({ description: 'Idle timeout, seconds.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  idleTimeout?: number;

  @ApiPropertyOptional({ description: 'Hard timeout, seconds.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  hardTimeout?: number;

  @ApiPropertyOptional({ description: 'OXM fields: [{"field":"IN_PORT","value":1}, …].', type: 'array', items: { type: 'object' } })
  @IsOptional()
  @IsArray()
  @IsObject({ each: true })
  match?: Array<Record<string, unknown>>;

  @ApiPropertyOptional({ description: 'Instructions: [{"type":"GOTO_TABLE","tableId":1}, {"type":"APPLY_ACTIONS","actions":[{"type":"OUTPUT","port":2}]}].', type: 'array', items: { type: 'object' } })
  @IsOptional()
  @IsArray()
  @IsObject({ each: true })
  instructions?: Array<Record<string, unknown>>;
}

/** The JSON fields a flow given as text replaces. */
export const FLOW_JSON_FIELDS = ['tableId', 'priority', 'cookie', 'idleTimeout', 'hardTimeout', 'match', 'instructions'] as const;

/** `POST /v1/instances/:vnf/flows`: the JSON fields, or the whole flow as ovs-ofctl text. */
export class OperatorFlowDto extends OperatorFlowFieldsDto {
  @ApiPropertyOptional({
    description: "The flow in ovs-ofctl's syntax, instead of the JSON fields (table defaults to 0). A syntax error is a 400 with the bad token and its position.",
    example: 'table=0,priority=100,ip,nw_dst=10.0.0.0/24,actions=goto_table:1',
  })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  flow?: string;

  @ApiHideProperty()
  @IsEmpty({ message: 'filter is for DELETE; give the flow as "flow"' })
  filter?: never;
}

/** `PATCH /v1/instances/:vnf/flows`: OFPFC_MODIFY(_STRICT) of operator flows: new instructions for the flows selected. */
export class OperatorFlowModifyDto extends OperatorFlowDto {
  @ApiPropertyOptional({ description: 'Strict: only the flow with exactly this priority and match (otherwise every flow at least as specific; text without table= means every operator table).', default: false })
  @IsOptional()
  @IsBoolean()
  strict?: boolean;
}

/** `DELETE /v1/instances/:vnf/flows`: the JSON fields (no instructions), or an ovs-ofctl filter. */
export class OperatorFlowDeleteDto extends OperatorFlowFieldsDto {
  @ApiPropertyOptional({
    description: "An ovs-ofctl del-flows filter instead of the JSON fields (no table= means every operator table; cookie=V/M, out_port=, out_group= allowed).",
    example: 'table=0,in_port=3',
  })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  filter?: string;

  @ApiPropertyOptional({ description: 'Strict match (priority and match exactly).', default: false })
  @IsOptional()
  @IsBoolean()
  strict?: boolean;

  @ApiHideProperty()
  @IsEmpty({ message: 'flow is for POST and PATCH; give a DELETE filter as "filter"' })
  flow?: never;
}

export const GROUP_TYPE_VALUES = [0, 1, 2, 3, 'all', 'select', 'indirect', 'ff', 'ALL', 'SELECT', 'INDIRECT', 'FF'] as const;

/** `POST /v1/instances/:vnf/groups`: an operator group (OFPGC_ADD), as `nicvisor add-group` sends it. */
export class OperatorGroupDto {
  @ApiProperty({ description: `Group id, in the operator's reserved range ${OPERATOR_GROUP_RANGE}.`, example: OPERATOR_GROUPS.first })
  @IsInt()
  @Min(0)
  @Max(0xffffffff)
  groupId!: number;

  @ApiProperty({ description: 'OFPGT_*: 0 all, 1 select, 2 indirect, 3 ff (or the name).', oneOf: [{ type: 'integer' }, { type: 'string' }], example: 0 })
  @IsIn(GROUP_TYPE_VALUES as unknown as unknown[], { message: 'groupType must be one of 0 (all), 1 (select), 2 (indirect), 3 (ff) or their names' })
  groupType!: number | string;

  @ApiProperty({
    description: 'Buckets: [{"weight":0,"watchPort":…,"watchGroup":…,"actions":[{"type":"OUTPUT","port":2}]}] (weight, watchPort, watchGroup optional).',
    type: 'array',
    items: { type: 'object' },
  })
  @IsArray()
  @IsObject({ each: true })
  buckets!: Array<Record<string, unknown>>;
}

/** `DELETE /v1/instances/:vnf/groups`: one operator group, or all of them. */
export class OperatorGroupDeleteDto {
  @ApiPropertyOptional({ description: `The group (operator range ${OPERATOR_GROUP_RANGE}); absent or OFPG_ALL (4294967292): every operator group.` })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(0xffffffff)
  groupId?: number;
}

/** `POST /v1/instances/:vnf/meters`: an operator meter (OFPMC_ADD), as `nicvisor add-meter` sends it. */
export class OperatorMeterDto {
  @ApiProperty({ description: `Meter id, in the operator's reserved range ${OPERATOR_METER_RANGE}.`, example: OPERATOR_METERS.first })
  @IsInt()
  @Min(0)
  @Max(0xffffffff)
  meterId!: number;

  @ApiPropertyOptional({ description: 'OFPMF_* bits: 1 kbps, 2 pktps, 4 burst, 8 stats (default 1).', default: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(0xffff)
  flags?: number;

  @ApiProperty({ description: 'Bands: [{"type":"DROP","rate":1000,"burstSize":100}, {"type":"DSCP_REMARK","rate":…,"precLevel":1}].', type: 'array', items: { type: 'object' } })
  @IsArray()
  @IsObject({ each: true })
  bands!: Array<Record<string, unknown>>;
}

/** `DELETE /v1/instances/:vnf/meters`: one operator meter, or all of them. */
export class OperatorMeterDeleteDto {
  @ApiPropertyOptional({ description: `The meter (operator range ${OPERATOR_METER_RANGE}); absent or OFPM_ALL (4294967295): every operator meter.` })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(0xffffffff)
  meterId?: number;
}

/** `POST /v1/instances/:vnf/ports/:port/inject`: one Ethernet frame, as hex. */
export class InjectFrameDto {
  @ApiProperty({ description: 'The frame as hex digits: at least an Ethernet header (14 bytes), at most 65535 bytes.', example: '02000000000202000000000108004500001400010000401100000a0000010a000002' })
  @IsString()
  @MaxLength(2 * 65535)
  @Matches(/^(?:[0-9a-fA-F]{2}){14,}$/, { message: 'frame must be hex digits, whole bytes, at least an Ethernet header (14 bytes)' })
  frame!: string;
}

/** What the injection answers. */
export class InjectView {
  @ApiProperty({ description: 'false when the NIC dropped the frame (the port\'s link is down).' })
  delivered!: boolean;
}

/** What `PATCH /v1/instances/:vnf/flows` answers. */
export class FlowModifyView {
  @ApiProperty({ description: 'How many operator flows were selected and modified.' })
  modified!: number;
  @ApiProperty({ description: "The instance's operator flows after the change: [{owner, text, flow}].", type: 'array', items: { type: 'object' } })
  flows!: unknown[];
}

/** One port of `GET /v1/instances/:vnf/ports`: its description (ofp_port) and its counters (ofp_port_stats). */
export class PortView {
  @ApiProperty() portNo!: number;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional({ description: 'MAC address' }) hwAddr?: string;
  @ApiPropertyOptional() config?: number;
  @ApiPropertyOptional() state?: number;
  @ApiPropertyOptional() curr?: number;
  @ApiPropertyOptional() advertised?: number;
  @ApiPropertyOptional() supported?: number;
  @ApiPropertyOptional() peer?: number;
  @ApiPropertyOptional() currSpeed?: number;
  @ApiPropertyOptional() maxSpeed?: number;
  @ApiPropertyOptional({ description: 'Counters are decimal strings (64-bit); absent when the NIC gave none.' }) rxPackets?: string;
  @ApiPropertyOptional() txPackets?: string;
  @ApiPropertyOptional() rxBytes?: string;
  @ApiPropertyOptional() txBytes?: string;
  @ApiPropertyOptional() rxDropped?: string;
  @ApiPropertyOptional() txDropped?: string;
  @ApiPropertyOptional() rxErrors?: string;
  @ApiPropertyOptional() txErrors?: string;
  @ApiPropertyOptional() rxFrameErr?: string;
  @ApiPropertyOptional() rxOverErr?: string;
  @ApiPropertyOptional() rxCrcErr?: string;
  @ApiPropertyOptional() collisions?: string;
  @ApiPropertyOptional({ description: 'Seconds the port has been up.' }) durationSec?: number;
  @ApiPropertyOptional() durationNsec?: number;
}

export class ChannelView {
  @ApiProperty({ enum: CHANNEL_MODES })
  mode!: ChannelMode;
  @ApiProperty({ description: 'listen: where the vNF connects; connect: the controller nicvisor dials (ssl: with TLS).', example: 'tcp:127.0.0.1:16653' })
  endpoint!: string;
  @ApiPropertyOptional({ description: 'true: mutual TLS (absent otherwise).' })
  tls?: boolean;
}

export class TablesView {
  @ApiProperty({ type: [Number], example: [0] })
  operator!: number[];
  @ApiProperty({ type: [Number], example: [1, 2, 3] })
  tenant!: number[];
  @ApiProperty()
  virtual!: boolean;
}

export class QuotasView {
  @ApiProperty() maxFlows!: number;
  @ApiProperty() maxGroups!: number;
  @ApiProperty() maxMeters!: number;
  @ApiProperty() packetInsPerSecond!: number;
}

/** An instance as the API shows it. */
export class InstanceView {
  @ApiProperty({ example: 'fw1' })
  vnf!: string;
  @ApiProperty({ example: 'acme' })
  tenant!: string;
  @ApiProperty({ example: 'embedded' })
  nic!: string;
  @ApiProperty({ description: '16 hex digits', example: '0000000000000001' })
  datapathId!: string;
  @ApiProperty({ type: [Number], example: [1, 2] })
  ports!: number[];
  @ApiProperty({ type: TablesView })
  tables!: TablesView;
  @ApiProperty({ type: QuotasView })
  quotas!: QuotasView;
  @ApiProperty({ type: ChannelView })
  channel!: ChannelView;
  @ApiPropertyOptional({ description: 'The compute node whose relay may carry the channel (absent: none).' })
  node?: string;
  @ApiProperty({ description: 'ISO time of creation.' })
  createdAt!: string;
  @ApiProperty({ description: "Whether the NIC instance's OpenFlow session is up." })
  connected!: boolean;
}
