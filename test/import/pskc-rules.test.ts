// @module-tag subprocess
/**
 * Issue 14's PSKC rules, each on a small file written here: codes right or the
 * key refused by name (Suite, Version, xs:int and xs:boolean values, RFC 6030
 * section 5 policies), and one serial with one seed but two Key Ids or
 * validities not folded into one token. The seed is RFC 4226's test seed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePskc } from '../../src/import/pskc/parse.js';
import { CliStore, collect } from './helpers.js';

const SEED = Buffer.from('12345678901234567890').toString('base64');
const s = new CliStore();
afterAll(() => s.cleanup());
let n = 0;

function file(body: string, version = '1.0'): string {
  const f = join(s.dir, `rules-${n++}.pskcxml`);
  writeFileSync(
    f,
    `<?xml version="1.0"?>\n<KeyContainer Version="${version}" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">${body}</KeyContainer>`,
  );
  return f;
}
const pkg = (opts: { serial?: string; id?: string; params?: string; policy?: string; data?: string } = {}) =>
  `<KeyPackage><DeviceInfo><SerialNo>${opts.serial ?? 'R1'}</SerialNo></DeviceInfo><Key Id="${opts.id ?? 'k1'}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">` +
  `<AlgorithmParameters>${opts.params ?? '<ResponseFormat Length="6" Encoding="DECIMAL"/>'}</AlgorithmParameters>` +
  `<Data><Secret><PlainValue>${SEED}</PlainValue></Secret>${opts.data ?? ''}</Data>${opts.policy ? `<Policy>${opts.policy}</Policy>` : ''}</Key></KeyPackage>`;

async function problems(f: string): Promise<string[]> {
  try {
    const items = await collect(parsePskc, f);
    return items.filter((i) => i.problem).map((i) => i.problem!.message);
  } catch (err) {
    return [(err as Error).message];
  }
}

describe('PSKC rules', () => {
  it('an unknown Suite is refused with its value, never taken as SHA-1', async () => {
    for (const suite of ['MD5', 'HMAC-SHA-1x', 'SHA1-ish']) {
      expect(
        await problems(file(pkg({ params: `<Suite>${suite}</Suite><ResponseFormat Length="6" Encoding="DECIMAL"/>` }))),
      ).toEqual([expect.stringContaining(`Suite '${suite}' is not a hash tokensmith knows`)]);
    }
    expect(await problems(file(pkg({ params: '<Suite>HMAC-SHA256</Suite><ResponseFormat Length="6"/>' })))).toEqual([]);
  });

  it('a KeyContainer Version other than 1.0 is refused', async () => {
    expect(await problems(file(pkg(), '1.2'))).toEqual([expect.stringMatching(/PSKC Version '1.2' is not supported/)]);
    expect(await problems(file(pkg(), '2.0'))).toEqual([expect.stringMatching(/Version '2.0'/)]);
  });

  it('non-integer and non-boolean values are refused, naming the attribute', async () => {
    expect(await problems(file(pkg({ params: '<ResponseFormat Length="six" Encoding="DECIMAL"/>' })))).toEqual([
      expect.stringContaining('Length="six"'),
    ]);
    expect(await problems(file(pkg({ params: '<ResponseFormat Length="6" CheckDigits="yes"/>' })))).toEqual([
      expect.stringContaining(`'yes' is not a boolean`),
    ]);
    expect(
      await problems(
        file(pkg({ params: '<ChallengeFormat Encoding="DECIMAL" Min="4" Max="many"/><ResponseFormat Length="6"/>' })),
      ),
    ).toEqual([expect.stringContaining('Max="many"')]);
    expect(await problems(file(pkg({ policy: '<NumberOfTransactions>FOUR</NumberOfTransactions>' })))).toEqual([
      expect.stringContaining(`'FOUR' is not a whole number`),
    ]);
    expect(await problems(file(pkg({ policy: '<PINPolicy MinLength="x" PINUsageMode="Local"/>' })))).toEqual([
      expect.stringContaining('MinLength="x"'),
    ]);
  });

  it('CheckDigits="true" is kept (and 1/TRUE as python-pskc reads them); false is a plain token', async () => {
    for (const v of ['true', '1', 'TRUE']) {
      const items = await collect(parsePskc, file(pkg({ params: `<ResponseFormat Length="6" CheckDigits="${v}"/>` })));
      expect(items[0]!.record).toMatchObject({ digits: 6, checkDigit: true });
    }
    const off = await collect(parsePskc, file(pkg({ params: '<ResponseFormat Length="6" CheckDigits="false"/>' })));
    expect(off[0]!.record!.checkDigit).toBeUndefined();
  });

  it('keys the Policy forbids for OTPs, or with policy content not understood, are refused with the reason (RFC 6030 section 5)', async () => {
    const cases: [string, RegExp][] = [
      ['<KeyUsage>Encrypt</KeyUsage>', /allows it only for Encrypt, not for one-time passwords/],
      ['<ExpiryDate>2001-01-01T00:00:00Z</ExpiryDate>', /expired on 2001-01-01/],
      ['<StartDate>2999-01-01T00:00:00Z</StartDate>', /only from 2999-01-01/],
      ['<NumberOfTransactions>5</NumberOfTransactions>', /limits it to 5 transactions/],
      ['<Unknown>1</Unknown>', /holds <Unknown>, which tokensmith does not understand/],
      ['<PINPolicy PINUsageMode="Local" Frobnicate="1"/>', /PINPolicy holds attribute Frobnicate/],
    ];
    for (const [policy, why] of cases)
      expect(await problems(file(pkg({ policy })))).toEqual([expect.stringMatching(why)]);
    expect(
      await problems(
        file(
          pkg({
            policy:
              '<KeyUsage>OTP</KeyUsage><StartDate>2001-01-01T00:00:00Z</StartDate><ExpiryDate>2999-01-01T00:00:00Z</ExpiryDate>',
          }),
        ),
      ),
    ).toEqual([]);
  });

  it('an empty Counter is 0, as python-pskc reads it; a counter beyond 2^64-1 is refused', async () => {
    const items = await collect(parsePskc, file(pkg({ data: '<Counter><PlainValue></PlainValue></Counter>' })));
    expect(items[0]!.record).toMatchObject({ counter: 0 });
    expect(
      await problems(file(pkg({ data: '<Counter><PlainValue>18446744073709551616</PlainValue></Counter>' }))),
    ).toEqual([expect.stringMatching(/beyond 2\^64-1/)]);
  });

  it('one serial with the same seed but another Key Id or validity is not folded into one token', async () => {
    const twoIds = file(pkg({ id: 'A' }) + pkg({ id: 'B' }));
    const r = await s.run(['import', twoIds]);
    expect(r.code).toBe(4);
    expect(r.stdout + r.stderr).toMatch(
      /serial R1 appears twice in the file with the same seed but a different Key Id \(A and B\)/,
    );
    const twoDates = file(
      pkg({ policy: '<ExpiryDate>2998-01-01T00:00:00Z</ExpiryDate>' }) +
        pkg({ policy: '<ExpiryDate>2999-01-01T00:00:00Z</ExpiryDate>' }),
    );
    const d = await s.run(['import', twoDates]);
    expect(d.code).toBe(4);
    expect(d.stdout + d.stderr).toMatch(/different ExpiryDate/);
    // The very same package twice is still one token, said as such.
    const same = await s.json(['import', file(pkg() + pkg())]);
    expect(same).toMatchObject({ imported: 1, skipped: 1 });
  });
});
