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
import type { Mailer } from '../provision/mailer.js';
import type { Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';
import { registerStationApi } from './api-station.js';
import { serveBridgeSocket } from './bridge.js';
import { contentSecurityPolicy, notPairedPage, stationPage } from './pages.js';
import { PAIR_COOKIE, PAIR_PARAM, allowedHosts, checkAccess, isLoopback, newPairingToken } from './pairing.js';
import { PcscReaderHub, type ReaderHub } from './readers.js';

export interface WebServerOptions {
  store: Store;
  mailer: Mailer;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  hub?: ReaderHub;
  /** Where the bundled client lives (dist/web). */
  assetsDir?: string;
  pairingToken?: string;
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

const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json' };

/** What an error looks like to the page: its message, code and the CLI's exit code; the HTTP status follows the exit code. */
export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const wire = errorToWire(e);
  const status = e instanceof TokensmithError ? ({ 2: 400, 3: 502, 4: 422, 5: 403 } as Record<number, number>)[e.exitCode] ?? 500 : 500;
  return reply.code(status).send({ error: wire });
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.pairingToken ?? newPairingToken();
  const hub = opts.hub ?? new PcscReaderHub();
  const assets = opts.assetsDir ?? defaultAssetsDir();
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024, forceCloseConnections: true });
  let allowed = allowedHosts(host, opts.port ?? 0);
  let origin = '';

  app.addHook('onRequest', async (req, reply) => {
    const url = new URL(req.raw.url ?? '/', 'http://x');
    const check = checkAccess({ method: req.method, headers: req.headers, query: url.searchParams, upgrade: req.headers.upgrade?.toLowerCase() === 'websocket' }, token, allowed);
    reply.header('Referrer-Policy', 'no-referrer').header('X-Content-Type-Options', 'nosniff').header('Content-Security-Policy', contentSecurityPolicy(origin)).header('Cache-Control', 'no-store');
    if (!check.ok) {
      const wantsHtml = req.method === 'GET' && !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/assets/');
      reply.code(check.status ?? 401);
      return wantsHtml ? reply.type('text/html; charset=utf-8').send(notPairedPage(check.reason!)) : reply.send({ error: { message: check.reason, code: 'not-paired', exitCode: 5 } });
    }
    if (check.fromLink) {
      url.searchParams.delete(PAIR_PARAM);
      reply.header('Set-Cookie', `${PAIR_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      return reply.redirect(`${url.pathname}${url.search}`, 303);
    }
  });

  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof TokensmithError) return sendError(reply, e);
    const status = (e as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({ error: { message: (e as Error).message, code: 'failure', exitCode: 1 } });
  });

  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  app.get('/ws', { websocket: true }, (socket) => serveBridgeSocket(socket, { store: opts.store, hub }));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(stationPage()));
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const m = /^([a-z0-9-]+)\.(js|css|map)$/.exec(req.params.file);
    const path = m ? `${assets}${req.params.file}` : null;
    if (!path || !existsSync(path)) return reply.code(404).send({ error: { message: `no asset ${req.params.file}; was the client built (npm run build)?`, code: 'not-found', exitCode: 4 } });
    return reply.type(ASSET_TYPES[m![2]!]!).send(readFileSync(path));
  });

  registerStationApi(app, { store: opts.store, hub });

  await app.listen({ host, port: opts.port ?? 0 });
  const port = (app.server.address() as { port: number }).port;
  allowed = allowedHosts(host, port);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  origin = `http://${shown}:${port}`;
  return {
    app,
    origin,
    url: `${origin}/?${PAIR_PARAM}=${token}`,
    pairingToken: token,
    exposed: !isLoopback(host),
    close: async () => {
      await app.close();
      await hub.close();
    },
  };
}
