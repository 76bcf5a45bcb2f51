// @module-tag subprocess
/**
 * `tokensmith entra connect` with a certificate and with the device-code flow, through @azure/msal-node
 * against the local HTTPS stand-in (test/helpers/entra-server.ts): the kept credential works for a later
 * push, is sealed in the store and is never printed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { assertBuilt, runCli } from '../helpers/cli.js';
import { FakeEntra } from '../helpers/entra-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-entra-connect-'));
const server = new FakeEntra();

function envFor(name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TOKENSMITH_DB: join(dir, `${name}.db`),
    TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
    NODE_EXTRA_CA_CERTS: server.certFile,
  };
}

const base = () => [
  '--tenant',
  server.tenant,
  '--client-id',
  server.clientId,
  '--graph-url',
  server.graphUrl,
  '--authority-url',
  server.url,
];

beforeAll(async () => {
  assertBuilt();
  await server.start();
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('entra connect', () => {
  it('--certificate: signs in with a client assertion signed by the key; status then reads the inventory', async () => {
    const pem = join(dir, 'app.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=tokensmith-app',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    writeFileSync(pem, readFileSync(join(dir, 'c.pem'), 'utf8') + key);
    server.clientCertificate = readFileSync(join(dir, 'c.pem'), 'utf8');
    const env = envFor('cert');
    const r = await runCli(['entra', 'connect', ...base(), '--certificate', pem, '--json'], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ auth: 'certificate', tenant: server.tenant });
    const before = server.log.length;
    const push = await runCli(['entra', 'status', '--json'], { env, timeoutMs: 60_000 });
    expect(push.code, push.stderr).toBe(0);
    expect(server.log.slice(before).some((l) => l.path.startsWith('/beta/') && l.status === 200)).toBe(true);
    const body = key.split('\n')[1]!;
    expect(r.stdout + r.stderr + push.stdout + push.stderr).not.toContain(body);
    expect(readFileSync(env.TOKENSMITH_DB!).includes(Buffer.from(body))).toBe(false);
  }, 60_000);

  it("a wrong client secret is refused at connect with the authority's code, nothing kept, the secret not echoed", async () => {
    server.clientSecret = 'the-right-one';
    const env = envFor('wrong');
    writeFileSync(join(dir, 'wrong.txt'), 'not-the-right-secret\n');
    const r = await runCli(['entra', 'connect', ...base(), '--client-secret-file', join(dir, 'wrong.txt')], {
      env,
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/sign-in to Entra failed: invalid_client/);
    expect(r.stdout + r.stderr).not.toContain('not-the-right-secret');
    const s = await openStore({ db: env.TOKENSMITH_DB, env });
    expect(await s.entra.connection()).toBeNull();
    await s.close();
  }, 60_000);

  it('--device-code: shows the sign-in message, keeps the token cache sealed, and a later push signs in from it', async () => {
    const env = envFor('device');
    const r = await runCli(['entra', 'connect', ...base(), '--device-code', '--json'], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('enter the code ABCD-EFGH');
    const polls = server.log.filter((l) => l.body.includes('device_code'));
    expect(polls.map((p) => p.status)).toEqual([400, 200]); // authorization_pending, then the tokens
    const s = await openStore({ db: env.TOKENSMITH_DB, env });
    const cache = (await s.entra.openCredential())!;
    await s.close();
    const refresh = /"secret":\s*"(rt-[^"]+)"/.exec(cache)?.[1];
    expect(refresh).toBeTruthy();
    expect(readFileSync(env.TOKENSMITH_DB!).includes(Buffer.from(refresh!))).toBe(false);
    const before = server.log.length;
    const push = await runCli(['entra', 'status', '--json'], { env, timeoutMs: 60_000 });
    expect(push.code, push.stderr).toBe(0);
    expect(server.log.slice(before).some((l) => l.path.startsWith('/beta/') && l.status === 200)).toBe(true);
    expect(push.stdout + push.stderr + r.stdout).not.toContain(refresh!);
  }, 60_000);
});
