// @module-tag subprocess
/**
 * Password forms of old drafts: draft-hoyer's container EncryptionMethod
 * PBE-3DES112-CBC (PBKDF2-HMAC-SHA1 to a two-key 3DES key, ValueDigest, an
 * encrypted counter) and draft-ietf-keyprov-pskc-02's pkcs-5#pbes2 with its
 * EncryptionScheme. The values are encrypted by python-pskc (hashlib's
 * PBKDF2, pskc.encryption.encrypt), a tool we did not write; the seed is
 * RFC 4226's labelled test seed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { base32ToHex, CliStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

const SEED = '12345678901234567890';
const s = new CliStore();
afterAll(() => s.cleanup());

/** [key, base64 ciphertext of each value, base64 HMAC-SHA1 of each plaintext] from python. */
function pyEncrypt(
  alg: string,
  keyLength: number,
  salt: string,
  iterations: number,
  values: string[],
): { ct: string[]; mac: string[] } {
  const code = [
    'import sys, json, base64, hashlib, hmac',
    'from pskc.encryption import encrypt',
    `key = hashlib.pbkdf2_hmac('sha1', b'qwerty', base64.b64decode('${salt}'), ${iterations}, ${keyLength})`,
    `vals = [v.encode() for v in json.loads(sys.argv[1])]`,
    `print(json.dumps({'ct': [base64.b64encode(encrypt('${alg}', key, v, b'\\x07' * (8 if 'des' in '${alg}' else 16))).decode() for v in vals],`,
    `                  'mac': [base64.b64encode(hmac.new(key, v, hashlib.sha1).digest()).decode() for v in vals]}))`,
  ].join('\n');
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', code, JSON.stringify(values)], { encoding: 'utf8' }));
}

const missing = toolsMissing('legacy password-encrypted PSKC', 'python3-pskc');

describe.skipIf(missing)(titled('legacy password-encrypted PSKC', missing), () => {
  it('draft-hoyer PBE-3DES112-CBC: the secret and the counter decrypt with the password', async () => {
    const salt = 'y6TzckeLRQw=';
    const { ct, mac } = pyEncrypt('http://www.w3.org/2001/04/xmlenc#tripledes-cbc', 16, salt, 999, [SEED, '42']);
    const file = join(s.dir, 'hoyer.pskcxml');
    writeFileSync(
      file,
      `<?xml version="1.0"?>\n<SecretContainer xmlns="http://www.openauthentication.org/OATH/2006/08/PSKC" version="1.2">
<EncryptionMethod algorithm="PBE-3DES112-CBC"><PBESalt>${salt}</PBESalt><PBEIterationCount>999</PBEIterationCount></EncryptionMethod>
<DigestMethod algorithm="HMAC-SHA1"></DigestMethod>
<Device><DeviceId><Manufacturer>Acme</Manufacturer><SerialNo>H112</SerialNo></DeviceId>
<Secret SecretAlgorithm="HOTP" SecretId="1"><Usage><ResponseFormat format="DECIMAL" length="6"/></Usage>
<Data Name="SECRET"><Value>${ct[0]}</Value><ValueDigest>${mac[0]}</ValueDigest></Data>
<Data Name="COUNTER"><Value>${ct[1]}</Value><ValueDigest>${mac[1]}</ValueDigest></Data>
</Secret></Device></SecretContainer>`,
    );
    const r = await s.run(['import', file, '--password', 'qwerty']);
    expect(r.code, r.stderr).toBe(0);
    const t = await s.json(['tokens', 'show', 'H112', '--show-secret']);
    expect(base32ToHex(t.secret)).toBe(Buffer.from(SEED).toString('hex'));
    expect(t).toMatchObject({ counter: 42, digits: 6, type: 'hotp' });
    const fresh = new CliStore();
    const wrong = await fresh.run(['import', file, '--password', 'qwertz']).finally(() => fresh.cleanup());
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/does not decrypt with the password/);
  });

  it('draft-02 pkcs-5#pbes2: the EncryptionScheme names the cipher, the DerivedKey the key', async () => {
    const salt = 'Ej7/PEpyEpw=';
    const { ct } = pyEncrypt('http://www.w3.org/2001/04/xmlenc#aes128-cbc', 16, salt, 1000, [SEED]);
    const file = join(s.dir, 'pbes2.pskcxml');
    writeFileSync(
      file,
      `<?xml version="1.0"?>\n<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Version="1.0">
<EncryptionKey><DerivedKey><KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2"><pkcs5:PBKDF2-params>
<pkcs5:Salt><pkcs5:Specified>${salt}</pkcs5:Specified></pkcs5:Salt><pkcs5:IterationCount>1000</pkcs5:IterationCount><pkcs5:KeyLength>16</pkcs5:KeyLength><pkcs5:PRF/>
</pkcs5:PBKDF2-params></KeyDerivationMethod></DerivedKey></EncryptionKey>
<Device><DeviceInfo><SerialNo>P2</SerialNo></DeviceInfo><Key KeyAlgorithm="urn:ietf:params:xml:ns:keyprov:pskc#hotp" KeyId="1"><Usage><ResponseFormat Length="8" Encoding="DECIMAL"/></Usage>
<Data><Secret><EncryptedValue><xenc:EncryptionMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5#pbes2"><EncryptionScheme Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/></xenc:EncryptionMethod>
<xenc:CipherData><xenc:CipherValue>${ct[0]}</xenc:CipherValue></xenc:CipherData></EncryptedValue></Secret></Data></Key></Device></KeyContainer>`,
    );
    const r = await s.run(['import', file, '--password', 'qwerty']);
    expect(r.code, r.stderr).toBe(0);
    const t = await s.json(['tokens', 'show', 'P2', '--show-secret']);
    expect(base32ToHex(t.secret)).toBe(Buffer.from(SEED).toString('hex'));
    expect(t.digits).toBe(8);
  });
});
