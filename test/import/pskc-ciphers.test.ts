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
import { base32ToHex, CliStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

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

const noPython = toolsMissing('the ciphers against python-pskc', 'python3-pskc');

describe.skipIf(noPython)(titled('ciphers, against python-pskc encrypt()', noPython), () => {
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

/** python-pskc's decrypt() of a value: what a tool we did not write reads from the bytes. */
function pyDecrypt(uri: string, key: Buffer, ct: Buffer): Buffer {
  const code = `import sys, binascii\nfrom pskc.encryption import decrypt\nprint(binascii.hexlify(decrypt(sys.argv[1], binascii.unhexlify(sys.argv[2]), binascii.unhexlify(sys.argv[3]))).decode())`;
  const out = execFileSync('/usr/bin/python3', ['-c', code, uri, key.toString('hex'), ct.toString('hex')], {
    encoding: 'utf8',
  });
  return Buffer.from(out.trim(), 'hex');
}

describe.skipIf(noPython)(
  titled('kw-camellia with values that are not whole 8-byte blocks (RFC 5649 padding, as python-pskc)', noPython),
  () => {
    const K128 = Buffer.from('e35b135a09bfff8b314a5a0c32193c37', 'hex');
    for (const [name, len] of [
      ['kw-camellia128', 20],
      ['kw-camellia192', 20],
      ['kw-camellia256', 20],
      ['kw-camellia128', 1],
      ['kw-camellia128', 8],
      ['kw-camellia128', 13],
      ['kw-camellia256', 33],
      ['kw-camellia256', 64],
    ] as const) {
      it(`${name}, a ${len}-byte value: ours unwraps python-pskc's wrap, and python-pskc unwraps ours`, () => {
        const spec = cipherByUri(`${NS}${name}`)!;
        const key = Buffer.alloc(spec.keyBytes).map((_, i) => (i * 53 + 5) & 0xff) as Buffer;
        const plain = Buffer.alloc(len).map((_, i) => (i * 7 + 1) & 0xff) as Buffer;
        const theirs = pyEncrypt(`${NS}${name}`, key, plain);
        expect(decryptValue(spec, key, theirs)).toEqual(plain);
        const ours = encryptValue(spec, key, plain, Buffer.alloc(8));
        expect(pyDecrypt(`${NS}${name}`, key, ours)).toEqual(plain);
        // python-pskc wraps an 8-byte value under RFC 3394's IV in one block; ours takes RFC 5649's AIV as that RFC says.
        if (len !== 8) expect(ours).toEqual(theirs);
        // A wrong key, or a changed padding byte, is noticed (never a shortened or lengthened seed).
        const wrong = Buffer.from(key).map((b) => b ^ 1) as Buffer;
        expect(() => decryptValue(spec, wrong, theirs)).toThrow(/integrity check/);
      });
    }

    it("python-pskc's kw-camellia128 test value, with a Key Id and Algorithm added, imports its 20-byte seed with its key", async () => {
      // The CipherValue of python-pskc's tests/encryption/kw-camellia128.pskcxml: RFC 4226's labelled test seed.
      const file = join(s.dir, 'kw-camellia128.pskcxml');
      writeFileSync(
        file,
        `<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc="${XENC}">
 <EncryptionKey><KeyName xmlns="http://www.w3.org/2000/09/xmldsig#">Pre-shared-key</KeyName></EncryptionKey>
 <KeyPackage><Key Id="CAM1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp"><Data><Secret><EncryptedValue>
  <xenc:EncryptionMethod Algorithm="${XENC}kw-camellia128"/>
  <xenc:CipherData><xenc:CipherValue>WB128TBZ1WGZzPNJNbwNrWRqQceU7M4FQSJPy2nw6iI=</xenc:CipherValue></xenc:CipherData>
 </EncryptedValue></Secret></Data></Key></KeyPackage>
</KeyContainer>`,
      );
      const wrong = await s.run(['import', file, '--key', '00'.repeat(16)]);
      expect(wrong.code).toBe(4);
      expect(wrong.stderr).toMatch(/wrong password or key/);
      const r = await s.run(['import', file, '--key', K128.toString('hex')]);
      expect(r.code, r.stderr).toBe(0);
      const t = (await s.tokens()).get('CAM1');
      expect(base32ToHex(t.secret)).toBe(SECRET.toString('hex'));
    });
  },
);

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
