/** The management API: message patterns over the NestJS TCP transport, each a thin wrapper over SmartnicService. */
import { Catch, Controller, RpcExceptionFilter, UseFilters } from '@nestjs/common';
import { MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { NicError } from '@nicvisor/softswitch/nic.js';
import { NIC_PATTERNS } from './smartnic.constants.js';
import type { InstanceView, PortView } from './smartnic.dto.js';
import {
  formatDatapathId,
  parseCreate,
  parseDatapathId,
  parseFrameHex,
  optionalPortNumber,
  requireBoolean,
  requireObject,
  requirePortNumber,
  requireString,
} from './smartnic.dto.js';
import { SmartnicService } from './smartnic.service.js';

/** What a client receives for a refused request. */
export interface NicErrorReply {
  status: 'error';
  code: string;
  message: string;
}

/** NicError (and anything else) becomes `{ status: 'error', code, message }` for the client. */
@Catch()
export class NicErrorFilter implements RpcExceptionFilter<unknown> {
  catch(e: unknown): Observable<never> {
    const reply: NicErrorReply =
      e instanceof NicError
        ? { status: 'error', code: e.code, message: e.message }
        : e instanceof RpcException
          ? { status: 'error', code: 'RPC', message: String((e.getError() as { message?: string }).message ?? e.getError()) }
          : { status: 'error', code: 'INTERNAL', message: (e as Error).message ?? String(e) };
    return throwError(() => reply);
  }
}

@Controller()
@UseFilters(NicErrorFilter)
export class SmartnicController {
  constructor(private readonly nic: SmartnicService) {}

  @MessagePattern(NIC_PATTERNS.INSTANCE_CREATE)
  create(@Payload() body: unknown): Promise<InstanceView> {
    return this.nic.createInstance(parseCreate(body));
  }

  @MessagePattern(NIC_PATTERNS.INSTANCE_DESTROY)
  async destroy(@Payload() body: unknown): Promise<{ destroyed: string }> {
    const datapathId = parseDatapathId(requireObject(body).datapathId);
    await this.nic.destroyInstance(datapathId);
    return { destroyed: formatDatapathId(datapathId) };
  }

  @MessagePattern(NIC_PATTERNS.INSTANCE_LIST)
  list(): InstanceView[] {
    return this.nic.listInstances();
  }

  @MessagePattern(NIC_PATTERNS.PORT_LIST)
  ports(): PortView[] {
    return this.nic.listPorts();
  }

  @MessagePattern(NIC_PATTERNS.PORT_ATTACH)
  attach(@Payload() body: unknown): InstanceView {
    const o = requireObject(body);
    return this.nic.attachPort(parseDatapathId(o.datapathId), requirePortNumber(o.nicPort, 'NIC port'), optionalPortNumber(o.portNo, 'instance port'));
  }

  @MessagePattern(NIC_PATTERNS.PORT_DETACH)
  detach(@Payload() body: unknown): { detached: number } {
    const nicPort = requirePortNumber(requireObject(body).nicPort, 'NIC port');
    this.nic.detachPort(nicPort);
    return { detached: nicPort };
  }

  @MessagePattern(NIC_PATTERNS.PORT_LINK)
  link(@Payload() body: unknown): { nicPort: number; down: boolean } {
    const o = requireObject(body);
    const nicPort = requirePortNumber(o.nicPort, 'NIC port');
    const down = requireBoolean(o.down, 'down');
    this.nic.setLinkDown(nicPort, down);
    return { nicPort, down };
  }

  @MessagePattern(NIC_PATTERNS.FRAME_INJECT)
  inject(@Payload() body: unknown): { delivered: boolean } {
    const o = requireObject(body);
    return { delivered: this.nic.inject(requirePortNumber(o.nicPort, 'NIC port'), parseFrameHex(o.frame)) };
  }

  @MessagePattern(NIC_PATTERNS.PCAP_REPLAY)
  replay(@Payload() body: unknown): { frames: number; delivered: number } {
    const o = requireObject(body);
    return this.nic.replayPcap(requirePortNumber(o.nicPort, 'NIC port'), requireString(o.path, 'path'));
  }

  @MessagePattern(NIC_PATTERNS.PCAP_CAPTURE_START)
  captureStart(@Payload() body: unknown): { nicPort: number; path: string } {
    const o = requireObject(body);
    return this.nic.startCapture(requirePortNumber(o.nicPort, 'NIC port'), requireString(o.path, 'path'));
  }

  @MessagePattern(NIC_PATTERNS.PCAP_CAPTURE_STOP)
  captureStop(@Payload() body: unknown): { nicPort: number; path: string; frames: number } {
    return this.nic.stopCapture(requirePortNumber(requireObject(body).nicPort, 'NIC port'));
  }
}
