// @module-tag subprocess
/**
 * `tokensmith portal` as a process: its first line, --json, a warning for a
 * network address without TLS, usage errors for bad options, a SIGTERM that
 * ends it while a keep-alive connection is open, and --help.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cliEnv, tokensmith } from './helpers.js';
import { call, startPortal } from '../web/portal.js';

describe('tokensmith portal (process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-portal-'));
  const vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };

  beforeAll(async () => {
    assertBuilt();
    expect((await tokensmith(['resource', 'create', 'corp'], vars)).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints "tokensmith portal: <url>" first; SIGTERM ends it with a keep-alive connection still open', async () => {
    const p = await startPortal(cliEnv(vars), [], false);
    expect(p.firstLine).toMatch(/^tokensmith portal: http:\/\/127\.0\.0\.1:\d+$/);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const page = await call(`${p.url}/r/corp`, { agent });
      expect(page.status).toBe(200);
      expect(page.headers.connection).toBe('keep-alive');
      const sockets = Object.values(agent.freeSockets).flat();
      expect(sockets).toHaveLength(1);
      const t0 = Date.now();
      const code = await p.stop();
      expect(code).toBe(0);
      // forceCloseConnections: the server does not wait for the idle client (keep-alive would hold it 72 s).
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(p.stderr()).toBe('');
    } finally {
      agent.destroy();
    }
  });

  it('--json prints {"url"}; --public-url is the address it prints; --access-log writes a line per request without the query', async () => {
    const p = await startPortal(cliEnv(vars), ['--public-url', 'https://mfa.example.com', '--access-log']);
    try {
      expect(p.url).toBe('https://mfa.example.com');
      expect(p.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await call(`${p.origin}/api/tokens`)).status).toBe(404);
      expect((await call(`${p.origin}/r/corp?x=secret`)).status).toBe(200);
      await expect.poll(() => p.stderr(), { timeout: 5000 }).toMatch(/^\S+Z 127\.0\.0\.1 GET \/r\/corp 200 \d+ms$/m);
      expect(p.stderr()).toMatch(/^\S+Z 127\.0\.0\.1 GET \/api\/tokens 404 \d+ms$/m);
      expect(p.stderr()).not.toContain('secret');
    } finally {
      await p.stop();
    }
  });

  it('warns when it listens on a network address without TLS or a proxy in front', async () => {
    const p = await startPortal(cliEnv(vars), ['--host', '0.0.0.0']);
    try {
      expect(p.stderr()).toMatch(/warning: listening on 0\.0\.0\.0 without TLS/);
    } finally {
      await p.stop();
    }
    const proxied = await startPortal(cliEnv(vars), ['--host', '0.0.0.0', '--trust-proxy', '10.0.0.0/8']);
    try {
      expect(proxied.stderr()).not.toMatch(/without TLS/);
    } finally {
      await proxied.stop();
    }
  });

  it('refuses bad options as usage errors (exit 2) that name the option', async () => {
    const cases: [string[], RegExp][] = [
      [['--trust-proxy', '10.0.0.0/33'], /--trust-proxy: '10\.0\.0\.0\/33' is not an IP address or CIDR/],
      [['--trust-proxy', 'proxy.local'], /is not an IP address or CIDR/],
      [['--tls-cert', join(dir, 'c.pem')], /--tls-cert and --tls-key go together/],
      [['--public-url', 'https://mfa.example.com/portal'], /--public-url must be an http\(s\) origin without a path/],
      [['--smtp-url', 'http://mail.example.com'], /SMTP URL must start with smtp:\/\/ or smtps:\/\//],
      [['--port', 'x'], /--port must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const r = await tokensmith(['portal', ...args], vars);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const missing = await tokensmith(
      ['portal', '--tls-cert', join(dir, 'none.pem'), '--tls-key', join(dir, 'none.key')],
      vars,
    );
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/--tls-cert .*none\.pem cannot be read \(ENOENT\)/);
  });

  it('--help teaches: what it serves, TLS or a proxy, mail, an example', async () => {
    const r = await tokensmith(['portal', '--help'], vars);
    expect(r.code).toBe(0);
    for (const s of [
      '--public-url',
      '--tls-cert',
      '--trust-proxy',
      '--smtp-url',
      '/r/<resource>',
      'TOKENSMITH_SMTP_URL',
      'postgres://',
      'Examples:',
      '404',
    ])
      expect(r.stdout).toContain(s);
  });
});
