// @module-tag subprocess
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportTokens } from '../../src/export/service.js';
import { addTokens, EVERY_KIND, pskc2csv, pskctoolValidate, tempStore, type TestStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';
import { toHex as hex } from '../helpers/bytes.js';

let ts: TestStore;
beforeEach(async () => {
  ts = await tempStore();
  await addTokens(ts.store, EVERY_KIND);
});
afterEach(async () => ts.close());

const missing = toolsMissing('PSKC export against pskctool and pskc2csv', 'pskctool', 'pskc2csv');

describe.skipIf(missing)(titled('PSKC export', missing), () => {
  it('password-encrypted by default settings: pskctool validates it and pskc2csv reads back exactly the stored secrets and parameters', async () => {
    const out = join(ts.dir, 'all.xml');
    const r = await exportTokens(ts.store, { format: 'pskc', output: out, password: 'correct horse' });
    expect(r).toMatchObject({ format: 'pskc', file: out, exported: 5, skipped: [], encrypted: true });
    expect(await pskctoolValidate(out)).toBe('OK');
    const rows = await pskc2csv(out, ['-p', 'correct horse']);
    expect(rows).toHaveLength(EVERY_KIND.length);
    for (const t of EVERY_KIND) {
      const row = rows.find((x) => x.serial === t.serial)!;
      expect(row.secret, t.serial).toBe(hex(t.seed!));
      expect(row.algorithm).toBe(`urn:ietf:params:xml:ns:keyprov:pskc:${t.type}`);
      expect(row.response_length).toBe(String(t.digits));
      expect(row.algorithm_suite).toBe(t.algorithm);
      expect(row.manufacturer).toBe(t.manufacturer);
      expect(row.model).toBe(t.model ?? '');
      if (t.type === 'totp') {
        expect(row.time_interval).toBe(String(t.period));
        expect(row.time_drift).toBe(String(t.driftSteps ?? 0));
      } else expect(row.counter).toBe(String(t.counter));
    }
  });

  it('writes PBKDF2 with HMAC-SHA1, 100,000 iterations, a 16-byte salt, aes128-cbc and an encrypted hmac-sha1 MAC key', async () => {
    const out = join(ts.dir, 'p.xml');
    await exportTokens(ts.store, { format: 'pskc', output: out, password: 'pw' });
    const xml = readFileSync(out, 'utf8');
    expect(xml).toContain('<IterationCount>100000</IterationCount>');
    expect(Buffer.from(/<Specified>([^<]+)<\/Specified>/.exec(xml)![1]!, 'base64')).toHaveLength(16);
    expect(xml).toContain('<KeyLength>16</KeyLength>');
    expect(xml).toMatch(
      /<pskc:MACMethod Algorithm="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#hmac-sha1">\s*<pskc:MACKey>\s*<xenc:EncryptionMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#aes128-cbc"\/>/,
    );
    expect((xml.match(/<pskc:ValueMAC>/g) ?? []).length).toBe(5);
    expect((xml.match(/<pskc:Key Id="[^"]+"/g) ?? []).length).toBe(5);
    expect(xml).not.toContain('PlainValue>MTIz'); // base64 of the ASCII test seeds never appears
    for (const t of EVERY_KIND) expect(xml).not.toContain(Buffer.from(t.seed!).toString('base64'));
  });

  it('a wrong password and a changed ValueMAC are both refused by pskc2csv', async () => {
    const out = join(ts.dir, 'p.xml');
    await exportTokens(ts.store, { format: 'pskc', output: out, password: 'right' });
    await expect(pskc2csv(out, ['-p', 'wrong'])).rejects.toThrow();
    const xml = readFileSync(out, 'utf8');
    const bad = join(ts.dir, 'bad.xml');
    writeFileSync(
      bad,
      xml.replace(/<pskc:ValueMAC>(.)/, (_m, c: string) => `<pskc:ValueMAC>${c === 'A' ? 'B' : 'A'}`),
    );
    await expect(pskc2csv(bad, ['-p', 'right'])).rejects.toThrow(/MAC/);
  });

  for (const [cipher, keyHex] of [
    ['aes128-cbc', '000102030405060708090a0b0c0d0e0f'],
    ['aes256-cbc', '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'],
    ['tripledes-cbc', '000102030405060708090a0b0c0d0e0f1011121314151617'],
    ['kw-aes128', '000102030405060708090a0b0c0d0e0f'],
  ] as const) {
    it(`pre-shared key with ${cipher}: valid, and pskc2csv --secret reads the seeds`, async () => {
      const out = join(ts.dir, `${cipher}.xml`);
      const r = await exportTokens(ts.store, { format: 'pskc', output: out, key: keyHex, cipher, mac: 'hmac-sha256' });
      expect(r.encrypted).toBe(true);
      expect(readFileSync(out, 'utf8')).toContain('<ds:KeyName>Pre-shared-key</ds:KeyName>');
      expect(await pskctoolValidate(out)).toBe('OK');
      const rows = await pskc2csv(out, ['--secret', keyHex]);
      expect(Object.fromEntries(rows.map((x) => [x.serial, x.secret]))).toEqual(
        Object.fromEntries(EVERY_KIND.map((t) => [t.serial, hex(t.seed!)])),
      );
    });
  }

  it('--plaintext writes PlainValue seeds that validate, and says so in a note', async () => {
    const out = join(ts.dir, 'plain.xml');
    const r = await exportTokens(ts.store, { format: 'pskc', output: out, plaintext: true });
    expect(r.encrypted).toBe(false);
    expect(r.notes.join(' ')).toMatch(/plaintext/i);
    expect(await pskctoolValidate(out)).toBe('OK');
    expect(readFileSync(out, 'utf8')).toContain(
      `<pskc:PlainValue>${Buffer.from(EVERY_KIND[0]!.seed!).toString('base64')}</pskc:PlainValue>`,
    );
    expect((await pskc2csv(out, [])).map((x) => x.secret)).toEqual(EVERY_KIND.map((t) => hex(t.seed!)));
  });

  it('refuses fewer than 100,000 PBKDF2 iterations and a key whose length does not fit the cipher', async () => {
    await expect(
      exportTokens(ts.store, { format: 'pskc', output: join(ts.dir, 'x.xml'), password: 'pw', iterations: 1000 }),
    ).rejects.toMatchObject({ exitCode: 2 });
    await expect(
      exportTokens(ts.store, {
        format: 'pskc',
        output: join(ts.dir, 'x.xml'),
        key: '00'.repeat(16),
        cipher: 'aes256-cbc',
      }),
    ).rejects.toThrow(/16 bytes but aes256-cbc needs a 32-byte key/);
  });
});

describe('ValueEncryptor (CBC chained over one ECB cipher)', () => {
  it('produces IV || ciphertext that the standard CBC decipher opens, for every CBC cipher and seed length', async () => {
    const { createDecipheriv, randomBytes } = await import('node:crypto');
    const { CIPHERS, ValueEncryptor } = await import('../../src/export/pskc-crypto.js');
    for (const c of Object.values(CIPHERS).filter((x) => x.mode === 'cbc')) {
      const key = randomBytes(c.keyBytes);
      const enc = new ValueEncryptor(c, key);
      const ivs = new Set<string>();
      for (let len = 0; len <= 70; len++) {
        const plain = randomBytes(len);
        const cv = enc.encrypt(plain);
        expect(cv.length).toBe(c.ivBytes + (Math.floor(len / c.ivBytes) + 1) * c.ivBytes);
        const iv = cv.subarray(0, c.ivBytes);
        ivs.add(iv.toString('hex'));
        const d = createDecipheriv(c.node, key, iv);
        expect(
          Buffer.concat([d.update(cv.subarray(c.ivBytes)), d.final()]).equals(plain),
          `${c.name} length ${len}`,
        ).toBe(true);
      }
      expect(ivs.size).toBe(71); // a fresh IV for every value
    }
  });
});
