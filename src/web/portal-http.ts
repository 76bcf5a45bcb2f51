/**
 * The portal's HTTP edges, before any route: the security headers (also on
 * the answers Node writes itself, 400 and 431), the Host a request may name
 * (--public-url's and the listen address: a rebound DNS name is refused), the
 * client's address from a trusted proxy (parsed and checked), and a cap on
 * the connections one address may hold open.
 */
import type { Socket } from 'node:net';
import { BlockList, isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../core/errors.js';
import { allowedHosts } from './pairing.js';

/** This origin only, no inline code, no framing, forms post only here. */
export const PORTAL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A browser opens about 6 connections to a host; more from one address is a client holding sockets open. */
export const MAX_CONNECTIONS_PER_ADDRESS = 16;
/** The request line and headers must arrive within this (Node's default is a minute). */
export const HEADERS_TIMEOUT_MS = 10_000;

const SECURITY_HEADERS: [string, string][] = [
  ['Content-Security-Policy', PORTAL_CSP],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-store'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

export function securityHeaders(reply: FastifyReply, https: boolean): void {
  for (const [k, v] of SECURITY_HEADERS) reply.header(k, v);
  if (https) reply.header('Strict-Transport-Security', 'max-age=31536000');
}

/** Node's own answer to a request it could not parse (400, 431, 408), with the headers every portal answer has. */
export function portalClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request'];
  const body = JSON.stringify({ error: { message: text.toLowerCase(), code: 'bad-request', exitCode: 2 } });
  const headers = SECURITY_HEADERS.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\n${headers}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy();
}

/** The Host values the portal answers to: --public-url's host (with and without its default port) and the listen address's. */
export function portalHosts(listenHost: string, port: number, publicUrl: string | undefined): Set<string> {
  const hosts = new Set(allowedHosts(listenHost, port).hosts);
  if (publicUrl) {
    const u = new URL(publicUrl);
    hosts.add(u.host.toLowerCase());
    hosts.add(`${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`);
  }
  return hosts;
}

/** The client's address: the socket's, or the one a trusted proxy forwarded, parsed ("1.2.3.4:5678", "[::1]:80") and checked. */
export function clientIp(req: FastifyRequest): string {
  const raw = req.ip.trim();
  const ip = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(raw)?.[1] ?? /^\[([^\]]+)\](?::\d+)?$/.exec(raw)?.[1] ?? raw;
  if (isIP(ip) === 0)
    throw new UsageError(
      'the proxy in front of the portal forwarded a client address that is not an IP address (X-Forwarded-For)',
      'bad-forwarded-for',
    );
  return ip.toLowerCase();
}

/** Closes a new connection when its address already holds `max` (trusted proxies carry many users: never capped). */
export function capConnections(
  server: { on(e: 'connection', f: (s: Socket) => void): unknown },
  max: number,
  trusted: string[] = [],
): void {
  const exempt = new BlockList();
  for (const item of trusted) {
    const [addr, prefix] = item.split('/') as [string, string | undefined];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) exempt.addAddress(addr, family);
    else exempt.addSubnet(addr, Number(prefix), family);
  }
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const addr = socket.remoteAddress ?? '';
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr)?.[1];
    const ip = v4 ?? addr;
    if (isIP(ip) === 0 || exempt.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return;
    const n = (open.get(ip) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(ip, n);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left > 0) open.set(ip, left);
      else open.delete(ip);
    });
  });
}
