/**
 * Who may talk to `tokensmith serve`. The printed link carries a pairing code
 * (?pair=), good for one pairing: the page trades it (POST /api/pair, with
 * the operator's name) for a session secret that it keeps in its origin's
 * storage and sends as `Authorization: Bearer` (and as a WebSocket
 * subprotocol). No cookie is used: cookies ignore ports, so any other service
 * on 127.0.0.1 would receive or plant it. The Host and the Origin are checked
 * against an allow-list of this server's own names and port.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { UsageError } from '../core/errors.js';

export const PAIR_PARAM = 'pair';
/** The WebSocket subprotocol the server agrees to; the session rides in a second one, `SESSION_PROTOCOL_PREFIX<secret>`. */
export const WS_PROTOCOL = 'tokensmith';
export const SESSION_PROTOCOL_PREFIX = 'tokensmith-session.';

export function newPairingToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A cookie's value (the self-service session uses one); a malformed %-escape reads as no cookie, not as a crash. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0 || part.slice(0, i).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The address to print for a server bound to `host`: a wildcard bind is reached on 127.0.0.1, IPv6 in brackets. */
export function listenOrigin(scheme: 'http' | 'https', host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface AllowedHosts {
  /** Host header values, always with the port. */
  hosts: Set<string>;
  origins: Set<string>;
}

const bracketed = (a: string) => (a.includes(':') && !a.startsWith('[') ? `[${a}]` : a);

/** The machine's own addresses (and its name): what a client may call a server bound to every interface. */
function ownAddresses(ipv6Too: boolean): string[] {
  const out = [hostname().toLowerCase()];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? [])
      if (a.family === 'IPv4' || ipv6Too) out.push(bracketed(a.address.replace(/%.*$/, '').toLowerCase()));
  }
  return out;
}

/** The Host header values and origins this server answers to: loopback names, the bind address, and on 0.0.0.0/:: the machine's own addresses; each with the port. */
export function allowedHosts(host: string, port: number): AllowedHosts {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', bracketed(host.toLowerCase())]);
  if (host === '0.0.0.0' || host === '::') for (const a of ownAddresses(host === '::')) names.add(a);
  names.delete('0.0.0.0');
  names.delete('[::]');
  const hosts = new Set([...names].map((n) => `${n}:${port}`));
  return { hosts, origins: new Set([...hosts].map((h) => `http://${h}`)) };
}

const OPERATOR_NAME = /^[\p{L}\p{N} ._@-]{1,64}$/u;
const OPERATOR_RULE = 'an operator name takes 1 to 64 letters, digits, spaces and . _ @ -';

/** The sessions of one server run: a secret per pairing, with the operator it acts for. */
export class PairingState {
  private codeUsed = false;
  private readonly sessions = new Map<string, { operator: string }>();

  constructor(
    readonly code: string,
    /** `serve --operator`: used when the page gives no name. */
    readonly startOperator?: string,
  ) {
    if (startOperator !== undefined && !OPERATOR_NAME.test(startOperator))
      throw new UsageError(`--operator: ${OPERATOR_RULE}, not '${startOperator.slice(0, 80)}'`, 'bad-operator');
  }

  /** Trades the printed code for a session secret, once. */
  pair(
    code: string | undefined,
    operator: string | undefined,
  ): { secret: string; operator: string } | { error: string; status: number; errorCode: string } {
    if (!sameSecret(code, this.code))
      return {
        status: 401,
        errorCode: 'not-paired',
        error: 'that pairing code is not the one `tokensmith serve` printed: open the printed link',
      };
    if (this.codeUsed)
      return {
        status: 401,
        errorCode: 'pairing-used',
        error:
          'this pairing link was used already (it pairs one page, once): stop `tokensmith serve` and start it again for a new link',
      };
    const name = operator?.trim() || this.startOperator;
    if (!name)
      return {
        status: 400,
        errorCode: 'operator-needed',
        error: 'say who you are: give your name for the audit log (or start serve with --operator <name>)',
      };
    if (!OPERATOR_NAME.test(name)) return { status: 400, errorCode: 'bad-operator', error: OPERATOR_RULE };
    this.codeUsed = true;
    const secret = randomBytes(32).toString('base64url');
    this.sessions.set(secret, { operator: name });
    return { secret, operator: name };
  }

  /** The operator of a session secret, or undefined. */
  operatorOf(secret: string | undefined): string | undefined {
    if (!secret) return undefined;
    for (const [s, v] of this.sessions) if (sameSecret(secret, s)) return v.operator;
    return undefined;
  }
}

export interface AccessCheck {
  ok: boolean;
  status?: number;
  reason?: string;
  /** The operator the request acts for (undefined for the public shell, assets and /api/pair). */
  operator?: string;
}

type Headers = Record<string, string | string[] | undefined>;

const header = (headers: Headers, n: string) => {
  const v = headers[n];
  return Array.isArray(v) ? v[0] : v;
};

/** The session secret a request carries: the bearer header, or for a socket the subprotocol. */
export function sessionSecretOf(headers: Headers): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
  if (bearer) return bearer;
  const protocols = (header(headers, 'sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  return protocols.find((p) => p.startsWith(SESSION_PROTOCOL_PREFIX))?.slice(SESSION_PROTOCOL_PREFIX.length);
}

/** Whether a path is open without a session: the page shell, its assets, and the pairing call itself. */
export function isPublicPath(method: string, path: string): boolean {
  if (method === 'POST') return path === '/api/pair';
  return (method === 'GET' || method === 'HEAD') && (path === '/' || path.startsWith('/assets/'));
}

/** Decides one request: Host, then Origin (required on anything that changes state, and on the socket), then the session. */
export function checkAccess(
  req: { method: string; path: string; headers: Headers; upgrade: boolean },
  pairing: PairingState,
  allowed: AllowedHosts,
): AccessCheck {
  const host = header(req.headers, 'host')?.toLowerCase();
  if (!host || !allowed.hosts.has(host))
    return {
      ok: false,
      status: 421,
      reason: `this server answers to ${[...allowed.hosts].join(', ')}, not to Host '${host ?? ''}'`,
    };
  const origin = header(req.headers, 'origin');
  if (origin !== undefined && !allowed.origins.has(origin))
    return {
      ok: false,
      status: 403,
      reason: `requests from the origin ${origin} are refused: only pages of this server may call it`,
    };
  const unsafe = req.upgrade || !['GET', 'HEAD'].includes(req.method);
  if (unsafe && origin === undefined)
    return {
      ok: false,
      status: 403,
      reason: `requests that change something must carry this server's Origin (${[...allowed.origins][0]}); scripts send it too`,
    };
  if (!req.upgrade && isPublicPath(req.method, req.path)) return { ok: true };
  const operator = pairing.operatorOf(sessionSecretOf(req.headers));
  if (operator) return { ok: true, operator };
  return {
    ok: false,
    status: 401,
    reason: 'not paired: open the link that `tokensmith serve` printed when it started (it carries the pairing code)',
  };
}
