/**
 * `POST /v1/instances/:vnf/credentials` (and the `instance.credentials`
 * pattern): a fresh key and certificate for the vNF, from nicvisor's CA,
 * for its TLS delegated channel. Every call issues a new pair; all of them
 * are revoked when the instance is deleted. `POST
 * /v1/nodes/:node/credentials`: the same for a compute node's configuration
 * relay (apps/relay); `DELETE` revokes a node's. The audit log records the
 * calls, never a key.
 */
import { Controller, Delete, Param, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audit.interceptor.js';
import { API_PREFIX } from '../instances/instances.constants.js';
import { badRequest } from '../instances/instances.errors.js';
import { NAME_PATTERN, VnfRefDto } from '../instances/instances.dto.js';
import { InstancesService } from '../instances/instances.service.js';
import { CertificateAuthority, identityUri } from './ca.js';

export const CREDENTIALS_PATTERN = 'instance.credentials';
export const NODE_CREDENTIALS_ACTION = 'node.credentials';
export const NODE_REVOKE_ACTION = 'node.revoke';

/** A key and certificate from nicvisor's CA. */
export class IssuedView {
  @ApiProperty({ description: 'The SAN URI the certificate carries (its subject CN is the name).', example: 'urn:nicvisor:vnf:fw1' }) identity!: string;
  @ApiProperty({ description: 'Upper-case hex.' }) serial!: string;
  @ApiProperty({ description: 'ISO time.' }) notAfter!: string;
  @ApiProperty({ description: 'The private key (PKCS#8, EC P-256), PEM. Shown once: nicvisor keeps no copy.' }) key!: string;
  @ApiProperty({ description: 'The certificate, PEM.' }) cert!: string;
  @ApiProperty({ description: "nicvisor's CA certificate, PEM: what the peer verifies nicvisor's certificate with." }) ca!: string;
}

export class CredentialsView extends IssuedView {
  @ApiProperty({ example: 'fw1' }) vnf!: string;
}

export class NodeCredentialsView extends IssuedView {
  @ApiProperty({ example: 'node1' }) node!: string;
}

@ApiTags('nodes')
@Controller(`${API_PREFIX}/nodes`)
export class NodeCredentialsController {
  constructor(private readonly ca: CertificateAuthority) {}

  @Post(':node/credentials')
  @Audited(NODE_CREDENTIALS_ACTION)
  @ApiOperation({ summary: "Issue a key and certificate for a compute node's configuration relay (it may carry the channels of the vNFs placed on the node)" })
  @ApiParam({ name: 'node' })
  @ApiCreatedResponse({ type: NodeCredentialsView })
  async issue(@Param('node') node: string): Promise<NodeCredentialsView> {
    checkNode(node);
    const c = await this.ca.issue('node', node);
    return { node, identity: identityUri('node', node), serial: c.serial, notAfter: c.notAfter, key: c.key, cert: c.cert, ca: c.ca };
  }

  @Delete(':node/credentials')
  @Audited(NODE_REVOKE_ACTION)
  @ApiOperation({ summary: "Revoke every certificate issued for a node's relay" })
  @ApiParam({ name: 'node' })
  revoke(@Param('node') node: string): { node: string; revoked: number } {
    checkNode(node);
    return { node, revoked: this.ca.revoke('node', node) };
  }
}

function checkNode(node: string): void {
  if (!NAME_PATTERN.test(node)) throw badRequest(`node must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`, 'node');
}

@ApiTags('instances')
@Controller(`${API_PREFIX}/instances`)
export class CredentialsController {
  constructor(
    private readonly instances: InstancesService,
    private readonly ca: CertificateAuthority,
  ) {}

  @Post(':vnf/credentials')
  @Audited(CREDENTIALS_PATTERN)
  @ApiOperation({ summary: "Issue a key and certificate for the vNF's TLS channel (revoked when the instance is deleted)" })
  @ApiParam({ name: 'vnf' })
  @ApiCreatedResponse({ type: CredentialsView })
  @ApiNotFoundResponse()
  issue(@Param('vnf') vnf: string): Promise<CredentialsView> {
    return issueFor(this.instances, this.ca, vnf);
  }

  @MessagePattern(CREDENTIALS_PATTERN)
  @Audited(CREDENTIALS_PATTERN)
  issueRpc(@Payload() ref: VnfRefDto): Promise<CredentialsView> {
    return issueFor(this.instances, this.ca, ref.vnf);
  }
}

async function issueFor(instances: InstancesService, ca: CertificateAuthority, vnf: string): Promise<CredentialsView> {
  instances.get(vnf); // 404 for an unknown vNF
  const c = await ca.issue('vnf', vnf);
  // Deleted while the key was made: its revocation may have run before this serial was recorded.
  if (instances.tenantOf(vnf) === undefined) {
    ca.revoke('vnf', vnf);
    instances.get(vnf);
  }
  return { vnf, identity: identityUri('vnf', vnf), serial: c.serial, notAfter: c.notAfter, key: c.key, cert: c.cert, ca: c.ca };
}
