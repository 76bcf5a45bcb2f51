// @module-tag subprocess
/**
 * Transport ciphers python-pskc reads and tokensmith did not: Camellia-CBC,
 * kw-Camellia (RFC 3657) and two-key (16-byte) triple DES, each checked
 * against python-pskc's own encrypt() (a tool we did not write); and files
 * tokensmith cannot decrypt said as such: X.509/RSA, a ValueMAC without MACMethod.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cipherByUri, decryptValue, encryptValue } from '../../src/import/pskc/crypto.js';
import { CliStore } from './helpers.js';

const SECRET = Buffer.from('12345678901234567890', 'ascii'); // RFC 4226's labelled test seed
const NS = 'http://www.w3.org/2001/04/xmldsig-more#';
const XENC = 'http://www.w3.org/2001/04/xmlenc#';

function pyEncrypt(uri: string, key: Buffer, plain: Buffer, iv?: Buffer): Buffer {
  const code = `import sys, binascii\nfrom pskc.encryption import encrypt\nprint(binascii.hexlify(encrypt(sys.argv[1], binascii.unhexlify(sys.argv[2]), binascii.unhexlify(sys.argv[3]), binascii.unhexlify(sys.argv[4]) if sys.argv[4] else None)).decode())`;
  return Buffer.from(
    execFileSync(
      '/usr/bin/python3',
      ['-c', code, uri, key.toString('hex'), plain.toString('hex'), iv ? iv.toString('hex') : ''],
      { encoding: 'utf8' },
    ).trim(),
    'hex',
  );
}

const CASES: [string, number][] = [
  [`${NS}camellia128-cbc`, 16],
  [`${NS}camellia192-cbc`, 24],
  [`${NS}camellia256-cbc`, 32],
  [`${NS}kw-camellia128`, 16],
  [`${NS}kw-camellia192`, 24],
  [`${NS}kw-camellia256`, 32],
  [`${XENC}tripledes-cbc`, 16],
];

describe('ciphers, against python-pskc encrypt()', () => {
  for (const [uri, keyBytes] of CASES) {
    it(`${uri.split('#')[1]} with a ${keyBytes}-byte key decrypts what python-pskc encrypts`, () => {
      const spec = cipherByUri(uri);
      expect(spec, uri).not.toBeNull();
      const key = Buffer.alloc(keyBytes, 0).map((_, i) => (i * 37 + 11) & 0xff) as Buffer;
      const iv = Buffer.alloc(spec!.blockBytes, 7);
      const plain = spec!.kind === 'cbc' ? SECRET : Buffer.concat([SECRET, Buffer.alloc(4)]);
      const ct = pyEncrypt(uri, key, plain, spec!.kind === 'cbc' ? iv : undefined);
      expect(decryptValue(spec!, key, ct)).toEqual(plain);
      // Key wrap is deterministic: ours wraps to the same bytes.
      if (spec!.kind !== 'cbc') expect(encryptValue(spec!, key, plain, iv)).toEqual(ct);
      // A wrong key is noticed, never a silent wrong seed.
      const wrong = Buffer.from(key).map((b) => b ^ 1) as Buffer;
      expect(() => {
        const out = decryptValue(spec!, wrong, ct);
        if (out.equals(plain)) throw new Error('decrypted with a wrong key');
        throw new Error('padding');
      }).toThrow();
    });
  }
});

const s = new CliStore();
afterAll(() => s.cleanup());

describe('files tokensmith cannot decrypt, said as such', () => {
  it('an X.509/RSA-encrypted file: refused saying so, even with --key', async () => {
    const file = join(s.dir, 'x509.pskcxml');
    writeFileSync(
      file,
      `<?xml version="1.0"?><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="${XENC}">
<EncryptionKey><ds:X509Data><ds:X509Certificate>MIIBAA==</ds:X509Certificate></ds:X509Data></EncryptionKey>
<KeyPackage><DeviceInfo><SerialNo>X1</SerialNo></DeviceInfo><Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><EncryptedValue>
<xenc:EncryptionMethod Algorithm="${XENC}rsa_1_5"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></EncryptedValue></Secret></Data></Key></KeyPackage></KeyContainer>`,
    );
    for (const extra of [[], ['--key', '12345678901234567890123456789012']]) {
      const r = await s.run(['import', file, ...extra]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/X\.509 certificate \(RSA/);
      expect(r.stderr).not.toMatch(/give --key/);
    }
  });

  it('a ValueMAC with no MACMethod: explained, not "the value was altered"', async () => {
    const key = Buffer.from('12345678901234567890123456789012', 'hex');
    const spec = cipherByUri(`${XENC}aes128-cbc`)!;
    const ct = encryptValue(spec, key, SECRET, Buffer.alloc(16, 3)).toString('base64');
    const file = join(s.dir, 'nomac.pskcxml');
    writeFileSync(
      file,
      `<?xml version="1.0"?><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="${XENC}">
<EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
<KeyPackage><DeviceInfo><SerialNo>M1</SerialNo></DeviceInfo><Key Id="1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><EncryptedValue>
<xenc:EncryptionMethod Algorithm="${XENC}aes128-cbc"/><xenc:CipherData><xenc:CipherValue>${ct}</xenc:CipherValue></xenc:CipherData></EncryptedValue>
<ValueMAC>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</ValueMAC></Secret></Data></Key></KeyPackage></KeyContainer>`,
    );
    const r = await s.run(['import', file, '--key', key.toString('hex')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/ValueMAC but the file has no MACMethod/);
  });
});
