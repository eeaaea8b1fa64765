/**
 * The orchestrator API's bearer-token check, one global guard for both
 * transports. REST: `Authorization: Bearer TOKEN`; a `read` token may use
 * GET (and HEAD) routes only. Microservice: the payload carries the token
 * as `token` beside the operation's own fields (`{token, vnf, …}`); it is
 * taken out before validation and the audit log see the payload, and a
 * `read` token may use the READ_PATTERNS only. Missing or unknown → 401,
 * not enough scope → 403, with a message saying what to send.
 * Handlers marked @Public() (GET /healthz) are open.
 */
import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PATTERN_METADATA } from '@nestjs/microservices/constants.js';
import { PATTERNS } from '../instances/instances.constants.js';
import type { ApiTokens } from './api-tokens.js';

const PUBLIC = 'nicvisor:public';

/** Marks a route that needs no token. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);

/** Injection token of the ApiTokens. */
export const API_TOKENS = Symbol('API_TOKENS');

/** Patterns a `read` token may call; any other (a new one included) needs `admin`. */
export const READ_PATTERNS: ReadonlySet<string> = new Set([PATTERNS.INSTANCE_GET, PATTERNS.INSTANCE_LIST, PATTERNS.TENANT_LIST, PATTERNS.AUDIT_QUERY]);
const READ_METHODS = new Set(['GET', 'HEAD']);

const HOW = "send 'Authorization: Bearer TOKEN' (nicvisor CLI: --token or NICVISOR_TOKEN)";

interface HttpReqLike {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}
interface HttpResLike {
  setHeader(name: string, value: string): unknown;
}

function unauthorized(message: string): UnauthorizedException {
  return new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message });
}

function forbidden(message: string): ForbiddenException {
  return new ForbiddenException({ statusCode: 403, error: 'Forbidden', message });
}

@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_TOKENS) private readonly tokens: ApiTokens,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC, [ctx.getHandler(), ctx.getClass()])) return true;
    if (ctx.getType() === 'http') return this.http(ctx);
    if (ctx.getType() === 'rpc') return this.rpc(ctx);
    return false;
  }

  private http(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<HttpReqLike>();
    const res = ctx.switchToHttp().getResponse<HttpResLike>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (m === null) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="nicvisor"');
      throw unauthorized(header === undefined ? `missing bearer token: ${HOW}` : `malformed Authorization header: ${HOW}`);
    }
    const scope = this.tokens.scopeOf(m[1]!);
    if (scope === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="nicvisor", error="invalid_token"');
      throw unauthorized('unknown bearer token: it is not one of this controller\'s (NICVISOR_API_TOKENS, NICVISOR_API_TOKEN_FILE or the data directory\'s api-token)');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (scope === 'read' && !READ_METHODS.has(method)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="nicvisor", error="insufficient_scope", scope="admin"');
      throw forbidden(`a read token may only inspect (GET); ${method} ${(req.url ?? '').replace(/\?.*/, '')} needs an admin token`);
    }
    return true;
  }

  private rpc(ctx: ExecutionContext): boolean {
    const data = ctx.switchToRpc().getData<unknown>();
    const payload = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : undefined;
    const token = payload?.token;
    // Out of the payload: the handler's validation and the audit log must never see it.
    if (payload !== undefined) delete payload.token;
    if (typeof token !== 'string' || token === '') throw unauthorized('missing token: send the payload as {"token": "TOKEN", ...the operation\'s fields}');
    const scope = this.tokens.scopeOf(token);
    if (scope === undefined) throw unauthorized('unknown token: it is not one of this controller\'s');
    const patterns = this.reflector.get<unknown[] | undefined>(PATTERN_METADATA, ctx.getHandler()) ?? [];
    if (scope === 'read' && !patterns.every((p) => typeof p === 'string' && READ_PATTERNS.has(p))) {
      throw forbidden(`a read token may only call ${[...READ_PATTERNS].join(', ')}; ${patterns.map(String).join(', ')} needs an admin token`);
    }
    return true;
  }
}
