/** GET /metrics: Prometheus text format; any token (read is enough), not audited (scrapes would flood the log). */
import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ControllerMetrics } from './controller-metrics.js';

interface HttpResLike {
  setHeader(name: string, value: string): unknown;
}

@ApiTags('metrics')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: ControllerMetrics) {}

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics: channels up, OpenFlow messages and errors by type and tenant, policy denials by rule, flows per instance, store latency' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The Prometheus text exposition format' })
  async metricsText(@Res({ passthrough: true }) res: HttpResLike): Promise<string> {
    res.setHeader('content-type', this.metrics.contentType);
    return this.metrics.render();
  }
}
