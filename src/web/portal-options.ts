/**
 * The portal's command-line settings checked and turned into server options:
 * the public address, the TLS files, the trusted proxies; and what deserves a
 * warning (a network address with neither TLS nor a proxy in front).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DataError, UsageError } from '../core/errors.js';
import { isLoopback } from './pairing.js';
import type { PortalServerOptions } from './portal-server.js';

export interface PortalFlags {
  host: string;
  port: number;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
}

export interface PortalSettings {
  server: Pick<PortalServerOptions, 'host' | 'port' | 'publicUrl' | 'tls' | 'trustProxy'>;
  warnings: string[];
}

/** An origin users type: http(s), a host, no path, query or credentials. */
export function checkPublicUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(
      `--public-url '${url}' is not a URL: give the address users open, e.g. https://mfa.example.com`,
      'bad-public-url',
    );
  }
  if (
    !['http:', 'https:'].includes(u.protocol) ||
    u.username ||
    u.password ||
    u.search ||
    u.hash ||
    (u.pathname !== '/' && u.pathname !== '')
  ) {
    throw new UsageError(
      `--public-url must be an http(s) origin without a path, e.g. https://mfa.example.com, not '${url}' (the portal's pages are always at /r/<resource>)`,
      'bad-public-url',
    );
  }
  return u.origin;
}

/** "127.0.0.1, 10.0.0.0/8" -> ['127.0.0.1', '10.0.0.0/8'], each an IP address with an optional prefix length. */
export function parseTrustProxy(list: string): string[] {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new UsageError(
      '--trust-proxy needs at least one address or CIDR, e.g. 127.0.0.1 or 10.0.0.0/8',
      'bad-trust-proxy',
    );
  for (const item of items) {
    const [addr, prefix, extra] = item.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
    if (!family || !prefixOk || extra !== undefined)
      throw new UsageError(
        `--trust-proxy: '${item}' is not an IP address or CIDR (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`,
        'bad-trust-proxy',
      );
  }
  return items;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new DataError(
      `${flag} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a PEM file this user may read`,
      { code: 'tls-file' },
    );
  }
}

export function portalSettings(f: PortalFlags): PortalSettings {
  if (Boolean(f.tlsCert) !== Boolean(f.tlsKey))
    throw new UsageError(
      '--tls-cert and --tls-key go together: give both (the certificate chain and its private key)',
      'tls-pair',
    );
  const tls =
    f.tlsCert && f.tlsKey ? { cert: readPem(f.tlsCert, '--tls-cert'), key: readPem(f.tlsKey, '--tls-key') } : undefined;
  const trustProxy = f.trustProxy !== undefined ? parseTrustProxy(f.trustProxy) : undefined;
  const publicUrl = f.publicUrl !== undefined ? checkPublicUrl(f.publicUrl) : undefined;
  const warnings: string[] = [];
  if (!isLoopback(f.host) && !tls && !trustProxy) {
    warnings.push(
      `listening on ${f.host} without TLS: passwords and sign-in codes would cross the network in clear text. Give --tls-cert/--tls-key, or keep --host 127.0.0.1 behind a reverse proxy that does TLS (--trust-proxy).`,
    );
  }
  if (publicUrl?.startsWith('http:') && !isLoopback(new URL(publicUrl).hostname)) {
    warnings.push(
      `--public-url ${publicUrl} is plain http: users' passwords would cross the network in clear text; use https.`,
    );
  }
  return { server: { host: f.host, port: f.port, publicUrl, tls, trustProxy }, warnings };
}
