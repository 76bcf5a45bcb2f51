// @module-tag subprocess
/**
 * From a PSKC file to `tokens code --at`: T0 (<Time>), CheckDigits and a
 * counter of 2^64-1 give the published codes (RFC 6238 appendix B shifted by
 * T0, RFC 4226 appendix D with python-stdnum's Luhn digit, oathtool's HOTP),
 * and `tokens show` says so. The seed is RFC 4226's labelled test seed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CliStore } from './helpers.js';
import { PYTHON, titled, toolsMissing } from '../helpers/tools.js';

const SEED = Buffer.from('12345678901234567890');
const key = (serial: string, alg: string, data: string, response: string) =>
  `<KeyPackage><DeviceInfo><SerialNo>${serial}</SerialNo></DeviceInfo><Key Id="${serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:${alg}">` +
  `<AlgorithmParameters><ResponseFormat Encoding="DECIMAL" ${response}/></AlgorithmParameters>` +
  `<Data><Secret><PlainValue>${SEED.toString('base64')}</PlainValue></Secret>${data}</Data></Key></KeyPackage>`;
const plain = (name: string, v: string) => `<${name}><PlainValue>${v}</PlainValue></${name}>`;

const s = new CliStore();
afterAll(() => s.cleanup());

// The second test reads what the first imported: both need all three.
const missing = toolsMissing('codes of imported PSKC keys', 'python3-stdnum', 'oathtool', 'python3-pskc');

describe.skipIf(missing)(titled('codes of imported PSKC keys', missing), () => {
  it('imports T0, CheckDigits and a 2^64-1 counter, and their codes are the published ones', async () => {
    const file = join(s.dir, 'codes.pskcxml');
    writeFileSync(
      file,
      `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">` +
        key('T0TOTP', 'totp', plain('Time', '1234567890') + plain('TimeInterval', '30'), 'Length="8"') +
        key('LUHN', 'hotp', plain('Counter', '0'), 'Length="6" CheckDigits="true"') +
        key('MAXCTR', 'hotp', plain('Counter', '18446744073709551615'), 'Length="6"') +
        key('EMPTYCTR', 'hotp', '<Counter><PlainValue></PlainValue></Counter>', 'Length="6"') +
        `</KeyContainer>`,
    );
    const r = await s.run(['import', file]);
    expect(r.code, r.stderr).toBe(0);

    // RFC 6238 appendix B, T=59 s (step 1): 59 s after T0.
    expect((await s.json(['tokens', 'code', 'T0TOTP', '--at', String(1234567890 + 59)])).code).toBe('94287082');
    expect(await s.json(['tokens', 'show', 'T0TOTP'])).toMatchObject({ t0: 1234567890, period: 30, digits: 8 });

    const luhn = execFileSync(
      PYTHON,
      ['-c', "import stdnum.luhn as l; print('755224' + l.calc_check_digit('755224'))"],
      { encoding: 'utf8' },
    ).trim();
    expect((await s.json(['tokens', 'code', 'LUHN'])).code).toBe(luhn);
    expect(await s.json(['tokens', 'show', 'LUHN'])).toMatchObject({ checkDigit: true, digits: 6 });

    const max = await s.json(['tokens', 'code', 'MAXCTR']);
    expect(max).toMatchObject({
      code: execFileSync('oathtool', ['--counter=18446744073709551615', SEED.toString('hex')], {
        encoding: 'utf8',
      }).trim(),
      counter: '18446744073709551615',
    });
    expect(await s.json(['tokens', 'show', 'EMPTYCTR'])).toMatchObject({ counter: 0 });
  });

  it('PSKC export writes T0, CheckDigits and the exact counter as python-pskc reads them; other formats leave those tokens out with the reason', async () => {
    const out = join(s.dir, 'out.pskcxml');
    const e = await s.run(['export', '--format', 'pskc', '--plaintext', '-o', out]);
    expect(e.code, e.stderr).toBe(0);
    const script = fileURLToPath(new URL('../../scripts/peers/pskc-read.py', import.meta.url));
    const [read] = JSON.parse(
      execFileSync(PYTHON, [script], { input: JSON.stringify([{ file: out }]), encoding: 'utf8' }),
    );
    const bySerial = new Map<string, any>(read.keys.map((k: any) => [k.serial, k]));
    expect(bySerial.get('T0TOTP')).toMatchObject({ t0: 1234567890, period: 30, digits: 8 });
    expect(bySerial.get('LUHN')).toMatchObject({ checkDigit: true, digits: 6, counter: '0' });
    expect(bySerial.get('MAXCTR')).toMatchObject({ counter: '18446744073709551615' });
    for (const k of bySerial.values()) expect(k.secret).toBe(SEED.toString('hex'));

    const csv = await s.json(['export', '--format', 'oath-csv', '--plaintext', '-o', join(s.dir, 'out.csv')]);
    expect(csv.exported).toBe(1);
    expect(csv.skipped).toEqual([
      {
        serial: 'T0TOTP',
        reason: expect.stringMatching(/count from T0 = 1234567890 \(RFC 6238\), which oath-csv cannot carry/),
      },
      { serial: 'LUHN', reason: expect.stringMatching(/Luhn check digit, which oath-csv cannot carry/) },
      { serial: 'MAXCTR', reason: expect.stringMatching(/counter 18446744073709551615/) },
    ]);
  });
});
