// @module-tag subprocess
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { exportTokens } from '../../src/export/service.js';
import { addTokens, EVERY_KIND, newToken, resourceWithUsers, tempStore, type TestStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

let ts: TestStore;
beforeEach(async () => {
  ts = await tempStore();
  await addTokens(ts.store, EVERY_KIND);
});
afterEach(async () => ts.close());

const serialsIn = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/<pskc:SerialNo>([^<]+)</g)].map((m) => m[1]);

describe('selection', () => {
  it('--state takes only tokens in that state', async () => {
    const out = join(ts.dir, 's.xml');
    const r = await exportTokens(ts.store, { format: 'pskc', output: out, plaintext: true, state: 'programmed' });
    expect(r.exported).toBe(1);
    expect(serialsIn(out)).toEqual(['K-HOTP']);
  });

  it('--resource takes the Resource stock and the tokens assigned in it, and no other', async () => {
    await resourceWithUsers(ts.store, 'vpn', 3);
    // A token stocked elsewhere but assigned in vpn still belongs to vpn's export.
    const vpn = (await ts.store.resources.findByName('vpn'))!;
    const other = await ts.store.tokens.insert(newToken('ELSEWHERE'));
    const u = await ts.store.users.create({ login: 'late' });
    await ts.store.assignments.create({ tokenId: other.id, userId: u.id, resourceId: vpn.id });
    const out = join(ts.dir, 'r.xml');
    const r = await exportTokens(ts.store, { format: 'pskc', output: out, plaintext: true, resource: 'vpn' });
    expect(r.exported).toBe(4);
    expect(serialsIn(out).sort()).toEqual(['ELSEWHERE', 'vpn-T1', 'vpn-T2', 'vpn-T3']);
    expect(readFileSync(out, 'utf8')).toContain('<pskc:UserId>user1@example.test</pskc:UserId>');
  });

  it('--serials reads one serial per line with comments, and names a line whose serial is unknown', async () => {
    const list = join(ts.dir, 'serials.txt');
    writeFileSync(list, '# wanted\nK-HOTP\n\n  K-SHA1-6-30  \n');
    const out = join(ts.dir, 'l.xml');
    const r = await exportTokens(ts.store, { format: 'pskc', output: out, plaintext: true, serialsFile: list });
    expect(serialsIn(out)).toEqual(['K-SHA1-6-30', 'K-HOTP']);
    expect(r.exported).toBe(2);
    writeFileSync(list, 'K-HOTP\nNOPE-1\n');
    await expect(
      exportTokens(ts.store, { format: 'pskc', output: out + '2', plaintext: true, serialsFile: list }),
    ).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringContaining('serials.txt:2 NOPE-1'),
    });
  });

  it('an empty selection is an error (exit 4) and leaves no file', async () => {
    const out = join(ts.dir, 'empty.xml');
    await expect(
      exportTokens(ts.store, { format: 'pskc', output: out, password: 'pw', state: 'lost' }),
    ).rejects.toMatchObject({ exitCode: 4, code: 'empty-selection' });
    expect(existsSync(out)).toBe(false);
  });

  it('a selection the format refuses entirely is an error too, naming the tokens, with no file and no temp file left', async () => {
    const out = join(ts.dir, 'entra.csv');
    await expect(
      exportTokens(ts.store, { format: 'entra-csv', output: out, plaintext: true, state: 'programmed' }),
    ).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringContaining('K-HOTP: Entra ID takes TOTP tokens only'),
    });
    expect(readdirSync(ts.dir).filter((f) => f.includes('entra'))).toEqual([]);
  });

  it('a blank programmable token (no seed) is reported, not exported', async () => {
    await ts.store.tokens.insert(newToken('BLANK', { kind: 'programmable', seed: null }));
    const r = await exportTokens(ts.store, { format: 'pskc', output: join(ts.dir, 'b.xml'), password: 'pw' });
    expect(r.skipped).toEqual([{ serial: 'BLANK', reason: expect.stringMatching(/no seed/) }]);
    expect(r.exported).toBe(5);
  });
});

describe('protection and output', () => {
  it('PSKC without --password, --key or --plaintext is refused; plaintext with a password is a contradiction', async () => {
    await expect(exportTokens(ts.store, { format: 'pskc', output: join(ts.dir, 'x.xml') })).rejects.toMatchObject({
      exitCode: 2,
      code: 'no-export-key',
    });
    await expect(
      exportTokens(ts.store, { format: 'pskc', output: join(ts.dir, 'x.xml'), plaintext: true, password: 'p' }),
    ).rejects.toMatchObject({ exitCode: 2 });
    for (const format of ['oath-csv', 'protectimus-csv', 'thales-csv', 'otpauth']) {
      await expect(exportTokens(ts.store, { format, output: join(ts.dir, 'x') })).rejects.toMatchObject({
        exitCode: 2,
        code: 'plaintext-not-confirmed',
      });
    }
    expect(existsSync(join(ts.dir, 'x.xml'))).toBe(false);
  });

  const noPskc2csv = toolsMissing('--password-file read back by pskc2csv', 'pskc2csv');
  it.skipIf(noPskc2csv)(titled('reads the password from the first line of --password-file', noPskc2csv), async () => {
    const pw = join(ts.dir, 'pw.txt');
    writeFileSync(pw, 'from-file\nignored\n');
    const out = join(ts.dir, 'f.xml');
    await exportTokens(ts.store, { format: 'pskc', output: out, passwordFile: pw });
    const { pskc2csv } = await import('./helpers.js');
    expect(await pskc2csv(out, ['-p', 'from-file'])).toHaveLength(5);
  });

  it('writes files with mode 0600', async () => {
    const out = join(ts.dir, 'm.csv');
    await exportTokens(ts.store, { format: 'oath-csv', output: out, plaintext: true });
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('-o - streams encrypted PSKC to the given stdout, and is refused for plaintext formats', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
    const r = await exportTokens(ts.store, { format: 'pskc', output: '-', password: 'pw', stdout });
    expect(r.file).toBe('-');
    expect(text).toMatch(/^<\?xml[\s\S]*<\/pskc:KeyContainer>\n$/);
    await expect(
      exportTokens(ts.store, { format: 'oath-csv', output: '-', plaintext: true, stdout }),
    ).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      exportTokens(ts.store, { format: 'pskc', output: '-', plaintext: true, stdout }),
    ).rejects.toMatchObject({ exitCode: 2 });
  });

  it('writes one audit row per export: format, count, path, encrypted or not; the chain stays intact', async () => {
    const out = join(ts.dir, 'a.xml');
    await exportTokens(ts.store, { format: 'pskc', output: out, password: 'pw', state: 'in_stock' });
    await exportTokens(ts.store, { format: 'otpauth', output: join(ts.dir, 'u.txt'), plaintext: true });
    const rows = await ts.store.audit.list({ action: 'export' });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      subject: 'export:pskc',
      details: {
        format: 'pskc',
        file: out,
        exported: 4,
        skipped: 0,
        encrypted: true,
        cipher: 'aes128-cbc',
        mac: 'hmac-sha1',
        selection: { state: 'in_stock' },
      },
    });
    expect(rows[1]!.details).toMatchObject({ format: 'otpauth', exported: 5, encrypted: false });
    expect(JSON.stringify(rows)).not.toMatch(/pw|MTIz/);
    expect((await ts.store.audit.verify()).ok).toBe(true);
  });
});
