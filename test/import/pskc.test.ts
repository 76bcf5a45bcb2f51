/** The PSKC parser against the corpus: RFC 6030 figures, vendor quirks, bad files (fixtures/seedfiles). */
import { describe, expect, it } from 'vitest';
import { parsePskc, plainInteger } from '../../src/import/pskc/parse.js';
import { collect, expectedOf, fixture } from './helpers.js';

const rfc = expectedOf('rfc6030');
const quirks = expectedOf('pskc-quirks');
const bad = expectedOf('bad');

function keyOf(f: any) {
  const d = f.decrypt ?? f.encryption ?? {};
  return {
    key: d.preSharedKeyHex ? Buffer.from(d.preSharedKeyHex, 'hex') : undefined,
    password: d.password,
  };
}

describe('RFC 6030 figures', () => {
  for (const f of rfc.files) {
    it(`${f.file}: every OTP key package with its secret, digits and counter`, async () => {
      const items = await collect(parsePskc, fixture('rfc6030', f.file), keyOf(f));
      if (f.file === 'figure10.xml') {
        // Its policies ran out in 2006: RFC 6030 section 5 says such keys must not be used, so each is refused with the date.
        const problems = items.filter((i) => i.problem).map((i) => i.problem!);
        expect(problems.length).toBe(f.keyPackages.length);
        for (const p of problems)
          expect(p).toMatchObject({
            code: 'unusable-policy',
            message: expect.stringMatching(/expired on 2006-0\d-\d\dT00:00:00.000Z \(Policy ExpiryDate\)/),
          });
        return;
      }
      expect(items.filter((i) => i.problem)).toEqual([]);
      const records = items.filter((i) => i.record).map((i) => i.record!);
      const otpKeys = f.keyPackages.filter((k: any) => !k.isPinKey);
      expect(records.length).toBe(otpKeys.length);
      otpKeys.forEach((k: any, i: number) => {
        const r = records[i]!;
        expect(r.serial).toBe(k.serial ?? k.keyId);
        expect(r.seed.toString('hex')).toBe(k.secretHex);
        expect(r.digits).toBe(k.digits ?? 6);
        expect(r.type).toBe('hotp');
        expect(r.counter).toBe(k.counter ?? 0);
        expect(r.manufacturer).toBe(k.manufacturer ?? '');
      });
      // The PIN of figure 5 is said, not imported.
      expect(items.filter((i) => i.skip).length).toBe(f.keyPackages.length - otpKeys.length);
    });
  }
});

describe('PSKC vendor quirks', () => {
  for (const f of quirks.files) {
    it(`${f.file}: ${f.quirk}`, async () => {
      const items = await collect(parsePskc, fixture('pskc-quirks', f.file), keyOf(f));
      if (f.expectedError) {
        const p = items.find((i) => i.problem)?.problem;
        expect(p?.code).toBe(f.expectedError.kind);
        expect(p?.serial).toBe(f.expectedError.serial);
        expect(p?.message).toContain(f.expectedError.algorithm);
        return;
      }
      expect(items.filter((i) => i.problem)).toEqual([]);
      const records = items.filter((i) => i.record).map((i) => i.record!);
      expect(records.map((r) => r.serial)).toEqual(f.keys.map((k: any) => k.serial));
      f.keys.forEach((k: any, i: number) => {
        const r = records[i]!;
        expect(r.seed.toString('hex')).toBe(k.secretHex);
        expect(r.type).toBe(k.type);
        expect(r.algorithm).toBe(k.hash);
        expect(r.digits).toBe(k.digits);
        if (k.type === 'totp') expect(r.period).toBe(k.period);
        else expect(r.counter).toBe(k.counter ?? 0);
        expect(r.driftSteps).toBe(k.drift ?? 0);
      });
      if (f.notImported) expect(items.filter((i) => i.skip).length).toBe(f.notImported.length);
    });
  }
});

describe('bad PSKC files', () => {
  const psk = Buffer.from('546f6b656e736d697468546573743136', 'hex');
  const byFile = Object.fromEntries(bad.files.map((f: any) => [f.file, f]));

  it('a wrong password is one clear error before anything is read further', async () => {
    const f = byFile['wrong-password.xml'];
    await expect(collect(parsePskc, fixture('bad', f.file), { password: f.wrongPassword })).rejects.toMatchObject({
      code: 'wrong-password',
      exitCode: 4,
    });
    const ok = await collect(parsePskc, fixture('bad', f.file), { password: f.rightPassword });
    expect(ok[0]!.record!.seed.toString('hex')).toBe(f.withRightPassword.secretHex);
  });

  it('a wrong pre-shared key is refused the same way', async () => {
    await expect(
      collect(parsePskc, fixture('rfc6030', 'figure6.xml'), { key: Buffer.alloc(16, 1) }),
    ).rejects.toMatchObject({ code: 'wrong-password' });
  });

  it('an encrypted file without password or key says which one to give', async () => {
    await expect(collect(parsePskc, fixture('rfc6030', 'figure7.xml'))).rejects.toThrow(/--password/);
    await expect(collect(parsePskc, fixture('rfc6030', 'figure6.xml'))).rejects.toThrow(/--key/);
    const asked = await collect(parsePskc, fixture('rfc6030', 'figure7.xml'), { askPassword: async () => 'qwerty' });
    expect(asked[0]!.record!.seed.toString('ascii')).toBe('12345678901234567890');
  });

  for (const name of ['tampered-mac.xml', 'tampered-ciphertext.xml']) {
    it(`${name}: MAC mismatch named by key package and serial`, async () => {
      const f = byFile[name];
      const items = await collect(parsePskc, fixture('bad', name), { key: psk });
      const p = items.find((i) => i.problem)!.problem!;
      expect(p.code).toBe('mac-mismatch');
      expect(p.serial).toBe(f.expectedError.serial);
      expect(p.where).toMatch(/key package 1/);
    });
  }

  it('unknown cipher names the URI and the serial', async () => {
    const items = await collect(parsePskc, fixture('bad', 'unknown-cipher.xml'), { key: psk });
    const p = items.find((i) => i.problem)!.problem!;
    expect(p.code).toBe('unsupported-cipher');
    expect(p.serial).toBe('TSB2010');
    expect(p.message).toContain('tokensmith-no-such-cipher');
  });

  it.each([
    ['doctype.xml', 'doctype-refused'],
    ['billion-laughs.xml', 'doctype-refused'],
    ['external-entity.xml', 'doctype-refused'],
    ['truncated.xml', 'truncated-xml'],
    ['not-xml.xml', 'not-xml'],
    ['zip-named-xml.xml', 'not-xml'],
  ])('%s is refused as %s with its place', async (name, code) => {
    await expect(collect(parsePskc, fixture('bad', name))).rejects.toMatchObject({
      code,
      exitCode: 4,
      message: expect.stringMatching(new RegExp(`^${name}:\\d+: `)),
    });
  });

  it('the DOCTYPE is refused before any element is read', async () => {
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const it of parsePskc(fixture('bad', 'billion-laughs.xml'), { fileName: 'b.xml' })) seen.push(it);
      })(),
    ).rejects.toMatchObject({ code: 'doctype-refused' });
    expect(seen).toEqual([]);
  });
});

describe('PSKC integers', () => {
  it('reads decimal, base64 of ASCII digits and base64 big-endian, as python-pskc does', () => {
    expect(plainInteger('405834', 'x')).toBe(405834);
    expect(plainInteger(Buffer.from('1234').toString('base64'), 'x')).toBe(1234);
    expect(plainInteger('AAAAAAAAASw=', 'x')).toBe(300);
    expect(() => plainInteger('!!', 'x')).toThrow(/base64/);
  });
});
