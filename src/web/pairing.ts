/**
 * Who may talk to `tokensmith serve`: whoever holds the pairing token printed
 * at start (a fresh random one per run), from a page of this server's own
 * origin. The token arrives once in the link (?pair=), is swapped for an
 * HttpOnly SameSite=Strict cookie, and the link is cleaned from the address
 * bar. The Host header is checked too, against DNS rebinding.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const PAIR_COOKIE = 'tokensmith_pair';
export const PAIR_PARAM = 'pair';

export function newPairingToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The Host header values and origins this server answers to. */
export function allowedHosts(host: string, port: number): { hosts: Set<string>; origins: Set<string>; anyHost: boolean } {
  const names = isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]', host.includes(':') && !host.startsWith('[') ? `[${host}]` : host] : [host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  const hosts = new Set(names.map((n) => `${n}:${port}`));
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  // Bound to every interface: the Host is whatever address the client used; the token and Origin still guard.
  return { hosts, origins, anyHost: host === '0.0.0.0' || host === '::' };
}

export interface AccessCheck {
  ok: boolean;
  status?: number;
  reason?: string;
  /** The token came in the link: set the cookie and redirect to the clean address. */
  fromLink?: boolean;
}

/** Decides one request: Host, Origin, then the token (link, cookie or bearer header). */
export function checkAccess(
  req: { method: string; headers: Record<string, string | string[] | undefined>; query: URLSearchParams; upgrade: boolean },
  token: string,
  allowed: ReturnType<typeof allowedHosts>,
): AccessCheck {
  const h = (n: string) => {
    const v = req.headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const host = h('host')?.toLowerCase();
  if (!allowed.anyHost && (!host || !allowed.hosts.has(host))) return { ok: false, status: 421, reason: `this server answers to ${[...allowed.hosts].join(', ')}, not to Host '${host ?? ''}'` };
  const origin = h('origin');
  const bearer = /^Bearer\s+(\S+)$/i.exec(h('authorization') ?? '')?.[1];
  const selfOrigin = allowed.anyHost && host ? `http://${host}` : undefined;
  if (origin !== undefined && !allowed.origins.has(origin) && origin !== selfOrigin) return { ok: false, status: 403, reason: `requests from the origin ${origin} are refused: only pages of this server may call it` };
  // A browser always sends Origin on a socket and on a POST; only a non-browser client with the bearer token may omit it.
  const unsafe = req.upgrade || !['GET', 'HEAD'].includes(req.method);
  if (unsafe && origin === undefined && bearer === undefined) return { ok: false, status: 403, reason: 'requests that change something must come from a page of this server (no Origin header)' };
  const fromLink = req.query.get(PAIR_PARAM) ?? undefined;
  if (sameSecret(bearer, token) || sameSecret(cookieValue(h('cookie'), PAIR_COOKIE), token)) return { ok: true };
  if (sameSecret(fromLink, token)) return { ok: true, fromLink: !req.upgrade && req.method === 'GET' };
  return { ok: false, status: 401, reason: 'not paired: open the link that `tokensmith serve` printed when it started (it carries the pairing token)' };
}
