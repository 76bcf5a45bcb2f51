/**
 * `tokensmith serve`: the station page, the self-service pages and the JSON
 * API (the same services as the CLI), and the WebSocket bridge to the host's
 * PC/SC readers. Fastify routes; every request passes the pairing check.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { TokensmithError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { registerStationApi } from './api-station.js';
import { serveBridgeSocket, StationBusy } from './bridge.js';
import { sendError, storeOf } from './http.js';
import { contentSecurityPolicy, notPairedPage, stationPage } from './pages.js';
import {
  PAIR_PARAM,
  PairingState,
  WS_PROTOCOL,
  allowedHosts,
  checkAccess,
  isLoopback,
  listenOrigin,
  newPairingToken,
  type AllowedHosts,
} from './pairing.js';
import { PcscReaderHub, type ReaderHub } from './readers.js';

export interface WebServerOptions {
  store: Store;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  hub?: ReaderHub;
  /** Where the bundled client lives (dist/web). */
  assetsDir?: string;
  pairingToken?: string;
  /** `serve --operator`: who the station acts for when the pairing page gives no name. */
  operator?: string;
}

export interface WebServer {
  app: FastifyInstance;
  /** http://host:port */
  origin: string;
  /** The link to print: the station page with the pairing token. */
  url: string;
  pairingToken: string;
  /** Whether it listens beyond this computer. */
  exposed: boolean;
  close(): Promise<void>;
}

/** dist/web beside the built server (dist/src/web), or the repository's dist/web when run from source. */
export function defaultAssetsDir(): string {
  for (const rel of ['../../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}station.js`)) return dir;
  }
  return fileURLToPath(new URL('../../web/', import.meta.url));
}

const ASSET_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
};

/** On every answer, refusals, errors and 404s included. */
function securityHeaders(reply: FastifyReply, origin: string): void {
  reply
    .header('Referrer-Policy', 'no-referrer')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', contentSecurityPolicy(origin))
    .header('Cache-Control', 'no-store');
}

/** The access check on every request, the security headers on every answer, and the pairing call. `at` is filled in once the port is known. */
function guardRequests(
  app: FastifyInstance,
  pairing: PairingState,
  at: { allowed: AllowedHosts; origin: string },
): void {
  // Set first and again on send: an answer that fails before the routes (a hook, a parse error, a 404) still carries them.
  app.addHook('onRequest', async (req, reply) => {
    securityHeaders(reply, at.origin);
    // The route that will answer (its pattern), not a parse of the raw target: what is public is decided on what runs. None for a 404.
    const route = req.routeOptions.url ?? '';
    const check = checkAccess(
      {
        method: req.method,
        path: route,
        headers: req.headers,
        upgrade: req.headers.upgrade?.toLowerCase() === 'websocket',
      },
      pairing,
      at.allowed,
    );
    if (!check.ok) {
      const wantsHtml =
        req.method === 'GET' && !route.startsWith('/api/') && !route.startsWith('/assets/') && route !== '/ws';
      reply.code(check.status ?? 401);
      return wantsHtml
        ? reply.type('text/html; charset=utf-8').send(notPairedPage(check.reason!))
        : reply.send({ error: { message: check.reason, code: 'not-paired', exitCode: 5 } });
    }
    req.stationOperator = check.operator;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    securityHeaders(reply, at.origin);
    return payload;
  });

  // The page trades the printed code for its session secret; the code is spent.
  // Open to anyone on this machine before pairing: a code and a name are a few dozen bytes, not the station's 32 MiB.
  app.post<{ Body: { code?: unknown; operator?: unknown } }>(
    '/api/pair',
    { bodyLimit: 4 * 1024 },
    async (req, reply) => {
      const b = req.body ?? {};
      const r = pairing.pair(
        typeof b.code === 'string' ? b.code : undefined,
        typeof b.operator === 'string' ? b.operator : undefined,
      );
      if ('error' in r)
        return reply
          .code(r.status)
          .send({ error: { message: r.error, code: r.errorCode, exitCode: r.status === 400 ? 2 : 5 } });
      return { session: r.secret, operator: r.operator };
    },
  );
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  const pairing = new PairingState(opts.pairingToken ?? newPairingToken(), opts.operator);
  const hub = opts.hub ?? new PcscReaderHub();
  const assets = opts.assetsDir ?? defaultAssetsDir();
  const at = { allowed: allowedHosts(host, opts.port ?? 0), origin: '' };
  const app = Fastify({
    logger: false,
    bodyLimit: 32 * 1024 * 1024,
    forceCloseConnections: true,
    // A bad %-escape or an overlong name fails in the router, before the hooks: answered here with the headers.
    frameworkErrors: (_e, _req, raw) => {
      const reply = raw as unknown as FastifyReply;
      securityHeaders(reply, at.origin);
      reply
        .code(400)
        .send({ error: { message: 'the address is malformed or too long', code: 'bad-request', exitCode: 2 } });
    },
  });
  guardRequests(app, pairing, at);

  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof TokensmithError) return sendError(reply, e);
    const status = (e as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error: { message: (e as Error).message, code: 'failure', exitCode: 1 } });
  });

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 1024 * 1024,
      handleProtocols: (offered: Set<string>) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
    // The default waits for each page to answer a close frame; stopping must not wait for a browser.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.terminate();
      this.websocketServer.close(() => done());
    },
  });
  const station = new StationBusy();
  app.get('/ws', { websocket: true }, (socket, req) =>
    serveBridgeSocket(socket, { store: storeOf(req, opts.store), hub, station }),
  );

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(stationPage()));
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const m = /^([a-z0-9-]+)\.(js|css|map)$/.exec(req.params.file);
    const path = m ? `${assets}${req.params.file}` : null;
    if (!path || !existsSync(path))
      return reply.code(404).send({
        error: {
          message: `no asset ${req.params.file}; was the client built (npm run build)?`,
          code: 'not-found',
          exitCode: 4,
        },
      });
    return reply.type(ASSET_TYPES[m![2]!]!).send(readFileSync(path));
  });

  registerStationApi(app, { store: opts.store, hub });

  await app.listen({ host, port: opts.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  at.allowed = allowedHosts(host, port);
  const origin = listenOrigin('http', host, port);
  at.origin = origin;
  return {
    app,
    origin,
    url: `${origin}/?${PAIR_PARAM}=${pairing.code}`,
    pairingToken: pairing.code,
    exposed: !isLoopback(host),
    close: async () => {
      await app.close();
      await hub.close();
    },
  };
}
