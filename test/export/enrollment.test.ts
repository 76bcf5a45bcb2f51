// @module-tag subprocess
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEnrollmentPackage, ENROLLMENT_FORMAT, ENROLLMENT_VERSION } from '../../src/export/enrollment.js';
import { inspectEnrollmentFile } from '../../src/export/inspect.js';
import { exportTokens } from '../../src/export/service.js';
import {
  addTokens,
  EVERY_KIND,
  pskc2csv,
  pskctoolValidate,
  resourceWithUsers,
  tempStore,
  type TestStore,
} from './helpers.js';
import { toolsMissing } from '../helpers/tools.js';

let ts: TestStore;
let pkgPath: string;
beforeEach(async () => {
  ts = await tempStore();
  await addTokens(ts.store, EVERY_KIND); // not in the Resource: must stay out of its package
  await resourceWithUsers(ts.store, 'vpn', 3);
  pkgPath = join(ts.dir, 'vpn.enroll');
});
afterEach(async () => ts.close());

describe('enrollment package', () => {
  it('holds the Resource, its 3 users, 3 tokens and 2 assignments, and inspects cleanly without secrets', async () => {
    const r = await exportTokens(ts.store, {
      format: 'enrollment',
      output: pkgPath,
      resource: 'vpn',
      password: 'pkg-pw',
    });
    expect(r).toMatchObject({ format: 'enrollment', exported: 3, skipped: [], encrypted: true });
    const s = await inspectEnrollmentFile(pkgPath);
    expect(s).toMatchObject({
      format: ENROLLMENT_FORMAT,
      version: ENROLLMENT_VERSION,
      digestOk: true,
      createdBy: 'test',
    });
    expect(s.resource).toEqual({
      name: 'vpn',
      url: 'https://sso.example.test/vpn',
      lockAfter: 5,
      window: 2,
      syncWindow: 1000,
      actions: ['enroll', 'synchronize'],
      tokenTypes: ['classic'],
    });
    expect(s.users.map((u) => [u.login, u.hasPassword])).toEqual([
      ['user1@example.test', true],
      ['user2@example.test', false],
      ['user3@example.test', false],
    ]);
    expect(s.tokens.map((t) => [t.serial, t.state, t.user])).toEqual([
      ['vpn-T1', 'assigned', 'user1@example.test'],
      ['vpn-T2', 'assigned', 'user2@example.test'],
      ['vpn-T3', 'in_stock', null],
    ]);
    expect(s.tokens[0]).toMatchObject({
      manufacturer: 'Tokensmith Test',
      model: 'TST-1',
      kind: 'classic',
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      counter: 0,
      driftSteps: 0,
      keyId: 'vpn-T1',
    });
    expect(s.assignments.map((a) => [a.serial, a.user])).toEqual([
      ['vpn-T1', 'user1@example.test'],
      ['vpn-T2', 'user2@example.test'],
    ]);
    expect(s.seeds).toMatchObject({
      format: 'pskc',
      encrypted: true,
      keyDerivation: 'pbkdf2',
      cipher: 'aes128-cbc',
      mac: 'hmac-sha1',
      keyPackages: 3,
    });
    const text = JSON.stringify(s);
    expect(text).not.toContain('scrypt$test$hash');
    expect(text).not.toMatch(/CipherValue|PlainValue/);
  });

  const noTools = toolsMissing('the enrollment PSKC against pskctool and pskc2csv', 'pskctool', 'pskc2csv');
  if (noTools) it.skip(`pskctool and pskc2csv: skipped: ${noTools}`, () => undefined);
  const itTools = noTools ? it.skip : it;
  itTools(
    'carries the seeds as an encrypted PSKC that pskctool validates and pskc2csv opens with the password',
    async () => {
      await exportTokens(ts.store, { format: 'enrollment', output: pkgPath, resource: 'vpn', password: 'pkg-pw' });
      const p = decodeEnrollmentPackage(readFileSync(pkgPath));
      const xml = join(ts.dir, 'seeds.xml');
      writeFileSync(xml, p.content.seeds.pskc);
      expect(await pskctoolValidate(xml)).toBe('OK');
      const rows = await pskc2csv(xml, ['-p', 'pkg-pw']);
      const tokens = await ts.store.tokens.list({ resourceId: (await ts.store.resources.findByName('vpn'))!.id });
      for (const t of tokens)
        expect(rows.find((r) => r.serial === t.serial)!.secret).toBe(
          (await ts.store.tokens.openSeed(t)).toString('hex'),
        );
    },
  );

  it('password hashes only with --include-password-hashes', async () => {
    await exportTokens(ts.store, { format: 'enrollment', output: pkgPath, resource: 'vpn', password: 'pw' });
    expect(decodeEnrollmentPackage(readFileSync(pkgPath)).content.users[0]!.passwordHash).toBeUndefined();
    expect(readFileSync(pkgPath).includes(Buffer.from('scrypt$test$hash'))).toBe(false);
    await exportTokens(ts.store, {
      format: 'enrollment',
      output: pkgPath,
      resource: 'vpn',
      password: 'pw',
      includePasswordHashes: true,
    });
    expect(decodeEnrollmentPackage(readFileSync(pkgPath)).content.users[0]!.passwordHash).toBe('scrypt$test$hash');
    expect((await inspectEnrollmentFile(pkgPath)).users[0]).toMatchObject({ passwordHashIncluded: true });
  });

  it('flipping any one byte of the content makes inspect fail on the digest (exit 4)', async () => {
    await exportTokens(ts.store, {
      format: 'enrollment',
      output: pkgPath,
      resource: 'vpn',
      key: '00112233445566778899aabbccddeeff',
    });
    const bytes = readFileSync(pkgPath);
    // Flip bytes spread over the content byte string (it fills most of the file, after the header and digest).
    for (const at of [0.5, 0.75, 0.95]) {
      const bad = Buffer.from(bytes);
      const i = Math.floor(bad.length * at);
      bad[i] = bad[i]! ^ 0x01;
      const badPath = join(ts.dir, `bad-${at}.enroll`);
      writeFileSync(badPath, bad);
      await expect(inspectEnrollmentFile(badPath)).rejects.toMatchObject({ exitCode: 4, code: 'digest-mismatch' });
    }
  });

  it('needs --resource, and is encrypted unless --plaintext', async () => {
    await expect(
      exportTokens(ts.store, { format: 'enrollment', output: pkgPath, password: 'pw' }),
    ).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      exportTokens(ts.store, { format: 'enrollment', output: pkgPath, resource: 'vpn' }),
    ).rejects.toMatchObject({ exitCode: 2, code: 'no-export-key' });
    const r = await exportTokens(ts.store, { format: 'enrollment', output: pkgPath, resource: 'vpn', plaintext: true });
    expect(r.encrypted).toBe(false);
    expect((await inspectEnrollmentFile(pkgPath)).seeds).toMatchObject({ encrypted: false, keyDerivation: null });
  });

  it('a file that is not a package is refused with a clear message', async () => {
    const p = join(ts.dir, 'junk.enroll');
    writeFileSync(p, 'not cbor at all');
    await expect(inspectEnrollmentFile(p)).rejects.toMatchObject({ exitCode: 4, code: 'bad-package' });
  });
});
