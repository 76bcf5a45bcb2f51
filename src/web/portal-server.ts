/**
 * `tokensmith portal`: the self-service portal as its own network server.
 * It serves /r/<resource>, the portal API at /api/r/<resource>/... and the
 * page's two assets, nothing else: no station page, API, bridge or pairing.
 * Every answer carries the security headers; the session cookie is Secure
 * whenever the user's connection is https (TLS here, or a trusted proxy).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { TokensmithError } from '../core/errors.js';
import type { Mailer } from '../provision/mailer.js';
import type { PortalLimits } from '../provision/portal-rules.js';
import type { Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';
import { PORTAL_COOKIE, PORTAL_HOST_COOKIE, registerSelfServiceApi } from './api-selfservice.js';
import { isPortalResource, unknownResource } from './portal-guard.js';
import {
  capConnections,
  clientIp,
  HEADERS_TIMEOUT_MS,
  MAX_CONNECTIONS_PER_ADDRESS,
  portalClientError,
  portalHosts,
  securityHeaders,
} from './portal-http.js';
import { portalIndexPage } from './portal-index.js';
import { selfServicePage } from './pages.js';
import { listenOrigin } from './pairing.js';

export { PORTAL_CSP } from './portal-http.js';

export interface PortalServerOptions {
  store: Store;
  mailer: Mailer;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The address users see (https://portal.example.com); the listening address when absent. */
  publicUrl?: string;
  /** PEM certificate chain and key: the portal speaks https itself. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Proxies (addresses or CIDRs) whose X-Forwarded-For/-Proto/-Host are believed. */
  trustProxy?: string[];
  /** Where the bundled client lives (dist/web). */
  assetsDir?: string;
  /** Rate limits, session time-outs, the email cool-down (DEFAULT_PORTAL_LIMITS where not given). */
  limits?: Partial<PortalLimits>;
  /** Called once per answered request (the CLI's --access-log). */
  accessLog?: (entry: AccessLogEntry) => void;
  /** Called with errors the portal did not expect (answered as a bare 500). */
  onUnexpectedError?: (e: unknown) => void;
  /** Called when a sign-in code could not be mailed (the message masks the address). */
  onMailFailure?: (message: string) => void;
  /** `/` lists the Resources that allow self-service (else it is a plain page naming none). */
  listResources?: boolean;
  /** Connections one address may hold open at once (trusted proxies excepted). */
  maxConnectionsPerAddress?: number;
}

export interface AccessLogEntry {
  /** The client's address: the socket's, or X-Forwarded-For's when it came through a trusted proxy. */
  ip: string;
  method: string;
  /** Without the query string. */
  path: string;
  status: number;
  ms: number;
}

export interface PortalServer {
  app: FastifyInstance;
  /** Where it listens: http(s)://host:port. */
  origin: string;
  /** The address users see: --public-url, else origin. */
  url: string;
  close(): Promise<void>;
}

/** The page's own script and style only; the station's bundle is not served here. */
const PORTAL_ASSETS: Record<string, string> = {
  'selfservice.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Portal bodies are a login, a password, a code: a few hundred bytes. */
const BODY_LIMIT = 16 * 1024;

/** dist/web beside the built server (dist/src/web), or the repository's dist/web when run from source. */
function portalAssetsDir(): string {
  const dirs = ['../../web/', '../../dist/web/'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return dirs.find((d) => existsSync(`${d}selfservice.js`)) ?? dirs[0]!;
}

/** The portal cookie as sent: HttpOnly and SameSite=Strict always, Secure when the user's connection is https. */
export function hardenPortalCookie(cookie: string, https: boolean): string {
  if (!cookie.startsWith(`${PORTAL_COOKIE}=`) && !cookie.startsWith(`${PORTAL_HOST_COOKIE}=`)) return cookie;
  const parts = cookie
    .split(';')
    .map((p) => p.trim())
    .filter((p) => !/^(httponly|secure|samesite=.*)$/i.test(p));
  return [...parts, 'HttpOnly', 'SameSite=Strict', ...(https ? ['Secure'] : [])].join('; ');
}

function hardenSetCookie(reply: FastifyReply, https: boolean): void {
  const set = reply.getHeader('set-cookie');
  if (set === undefined) return;
  const list = (Array.isArray(set) ? set : [String(set)]).map((c) => hardenPortalCookie(String(c), https));
  // Fastify appends to set-cookie rather than replacing it: without this the original went out beside the hardened copy.
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', list.length === 1 ? list[0] : list);
}

/** Refuses a changing request from another site's page (the cookie is SameSite=Strict too; this covers old browsers). */
function foreignOrigin(req: FastifyRequest, publicOrigin: string | undefined): string | null {
  const origin = req.headers.origin;
  if (origin === undefined || ['GET', 'HEAD'].includes(req.method)) return null;
  const own = `${req.protocol}://${req.host}`;
  return origin === own || origin === publicOrigin ? null : origin;
}

function wireError(reply: FastifyReply, status: number, message: string, code: string, exitCode: number): FastifyReply {
  return reply.code(status).send({ error: { message, code, exitCode } });
}

/** Statuses follow the CLI's exit codes, as on the station: usage 400, data 422, policy 403. */
function statusOf(e: TokensmithError): number {
  if (e.code === 'directory-unavailable') return 503; // the directory is down: try later
  return ({ 2: 400, 3: 502, 4: 422, 5: 403 } as Record<number, number>)[e.exitCode] ?? 500;
}

function registerPortalRoutes(app: FastifyInstance, opts: PortalServerOptions, edge: Edge): void {
  const assets = opts.assetsDir ?? portalAssetsDir();
  app.get<{ Params: { resource: string } }>('/r/:resource', async (req, reply) => {
    if (!(await isPortalResource(opts.store, req.params.resource))) return unknownResource(reply, req.params.resource);
    return reply.type('text/html; charset=utf-8').send(selfServicePage(req.params.resource));
  });
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const type = Object.hasOwn(PORTAL_ASSETS, req.params.file) ? PORTAL_ASSETS[req.params.file] : undefined;
    const path = `${assets}${req.params.file}`;
    if (!type || !existsSync(path))
      return wireError(reply, 404, `no asset ${req.params.file} on the portal`, 'not-found', 4);
    return reply.type(type).send(readFileSync(path));
  });
  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(await portalIndexPage(opts.store, opts.listResources === true)),
  );
  registerSelfServiceApi(app, {
    store: opts.store,
    mailer: opts.mailer,
    limits: opts.limits,
    portalUrl: () => edge.url,
    onMailFailure: opts.onMailFailure,
  });
  app.setNotFoundHandler((req, reply) =>
    wireError(
      reply,
      404,
      `the portal has no ${req.method} ${req.url.split('?')[0]}: its pages are at /r/<resource>`,
      'not-found',
      4,
    ),
  );
  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof TokensmithError) return reply.code(statusOf(e)).send({ error: errorToWire(e) });
    const status = (e as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) return wireError(reply, status, (e as Error).message, 'bad-request', 2);
    // An unexpected fault: its text may name tables or files, so the user gets none of it.
    opts.onUnexpectedError?.(e);
    return wireError(reply, 500, 'the portal failed to answer; the operator can see why in its log', 'failure', 1);
  });
}

/** What is known once the server listens: the Host values it answers to, and the address users open. */
interface Edge {
  hosts: Set<string>;
  url: string;
}

/** A Host the portal does not answer to (a DNS name rebound to it) gets 421 and nothing else. */
function wrongHost(req: FastifyRequest, edge: Edge): string | null {
  const host = req.host.toLowerCase();
  return edge.hosts.has(host) ? null : host;
}

function addHooks(app: FastifyInstance, opts: PortalServerOptions, publicOrigin: string | undefined, edge: Edge): void {
  app.addHook('onRequest', async (req, reply) => {
    securityHeaders(reply, req.protocol === 'https');
    const host = wrongHost(req, edge);
    if (host !== null)
      return wireError(
        reply,
        421,
        `this portal answers to ${[...edge.hosts][0]}, not to Host '${host.slice(0, 100)}'`,
        'wrong-host',
        5,
      );
    const foreign = foreignOrigin(req, publicOrigin);
    if (foreign)
      return wireError(
        reply,
        403,
        `requests from pages of ${foreign} are refused: only the portal's own pages may call it`,
        'foreign-origin',
        5,
      );
  });
  app.addHook('onSend', async (req, reply, payload) => {
    hardenSetCookie(reply, req.protocol === 'https');
    return payload;
  });
  if (opts.accessLog) {
    const log = opts.accessLog;
    app.addHook('onResponse', async (req, reply) => {
      let ip: string;
      try {
        ip = clientIp(req);
      } catch {
        // What a proxy forwarded that is no address is not written to the log as it came.
        ip = 'invalid-forwarded-for';
      }
      log({
        ip,
        method: req.method,
        path: req.url.split('?')[0]!,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      });
    });
  }
}

export async function startPortalServer(opts: PortalServerOptions): Promise<PortalServer> {
  const host = opts.host ?? '127.0.0.1';
  const publicUrl = opts.publicUrl?.replace(/\/+$/, '');
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // SIGTERM ends keep-alive connections too instead of waiting for their clients.
    forceCloseConnections: true,
    requestTimeout: 30_000,
    trustProxy: opts.trustProxy && opts.trustProxy.length > 0 ? opts.trustProxy : false,
    // A bad %-escape or an overlong name fails in the router, before the hooks: answered here like any refusal.
    frameworkErrors: (_e, req, reply) => {
      securityHeaders(reply, req.protocol === 'https');
      wireError(reply, 400, 'the address is malformed or too long: open the link you were given', 'bad-request', 2);
    },
    // What Node answers itself (a malformed request, headers too large) carries the security headers too.
    clientErrorHandler: portalClientError,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
    // Fastify types an https server as another instance type; the routes and hooks are the same.
  }) as unknown as FastifyInstance;
  const edge: Edge = { hosts: new Set(), url: publicUrl ?? '' };
  addHooks(app, opts, publicUrl ? new URL(publicUrl).origin : undefined, edge);
  registerPortalRoutes(app, opts, edge);
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  capConnections(app.server, opts.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS, opts.trustProxy);
  await app.listen({ host, port: opts.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  const origin = listenOrigin(opts.tls ? 'https' : 'http', host, port);
  for (const h of portalHosts(host, port, publicUrl)) edge.hosts.add(h);
  edge.url = publicUrl ?? origin;
  return { app, origin, url: edge.url, close: () => app.close() };
}
