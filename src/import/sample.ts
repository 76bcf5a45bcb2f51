/**
 * A small encrypted PSKC file with labelled test seeds, written the way
 * python-pskc writes one (PBKDF2 key, aes128-cbc, HMAC-SHA1 under a random
 * MAC key): for the demo and for people trying `tokensmith import`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cipherByUri, encryptValue, pbkdf2 } from './pskc/crypto.js';

export interface SampleToken {
  serial: string;
  /** Labelled test seed, never a real token's. */
  seed: Buffer;
  type: 'totp' | 'hotp';
  digits: number;
  period?: number;
  counter?: number;
}

/** RFC 4226 / 6238 test seeds ("12345678901234567890" and friends). */
export const SAMPLE_TOKENS: SampleToken[] = [
  { serial: 'DEMO-PSKC-1', seed: Buffer.from('12345678901234567890', 'ascii'), type: 'totp', digits: 6, period: 30 },
  {
    serial: 'DEMO-PSKC-2',
    seed: Buffer.from('12345678901234567890123456789012', 'ascii'),
    type: 'totp',
    digits: 8,
    period: 60,
  },
  { serial: 'DEMO-PSKC-3', seed: Buffer.from('12345678901234567890', 'ascii'), type: 'hotp', digits: 6, counter: 5 },
];

const AES128 = 'http://www.w3.org/2001/04/xmlenc#aes128-cbc';

export function writeSamplePskc(
  file: string,
  password: string,
  tokens: SampleToken[] = SAMPLE_TOKENS,
  manufacturer = 'Demo',
): void {
  const spec = cipherByUri(AES128)!;
  const salt = randomBytes(16);
  const iterations = 100_000;
  const key = pbkdf2(password, salt, iterations, 16, 'sha1');
  const macKey = randomBytes(20);
  const enc = (plain: Buffer) => encryptValue(spec, key, plain, randomBytes(16));
  const packages = tokens.map((t) => {
    const ct = enc(t.seed);
    const mac = createHmac('sha1', macKey).update(ct).digest('base64');
    const extra =
      t.type === 'totp'
        ? `<pskc:TimeInterval><pskc:PlainValue>${t.period ?? 30}</pskc:PlainValue></pskc:TimeInterval>`
        : `<pskc:Counter><pskc:PlainValue>${t.counter ?? 0}</pskc:PlainValue></pskc:Counter>`;
    return ` <pskc:KeyPackage>
  <pskc:DeviceInfo><pskc:Manufacturer>${manufacturer}</pskc:Manufacturer><pskc:SerialNo>${t.serial}</pskc:SerialNo></pskc:DeviceInfo>
  <pskc:Key Id="${t.serial}" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:${t.type}">
   <pskc:AlgorithmParameters><pskc:ResponseFormat Length="${t.digits}" Encoding="DECIMAL"/></pskc:AlgorithmParameters>
   <pskc:Data>
    <pskc:Secret>
     <pskc:EncryptedValue><xenc:EncryptionMethod Algorithm="${AES128}"/><xenc:CipherData><xenc:CipherValue>${ct.toString('base64')}</xenc:CipherValue></xenc:CipherData></pskc:EncryptedValue>
     <pskc:ValueMAC>${mac}</pskc:ValueMAC>
    </pskc:Secret>
    ${extra}
   </pskc:Data>
  </pskc:Key>
 </pskc:KeyPackage>`;
  });
  writeFileSync(
    file,
    `<?xml version="1.0" encoding="UTF-8"?>
<!-- tokensmith sample seed file: labelled test seeds (RFC 4226/6238), not real tokens -->
<pskc:KeyContainer xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Version="1.0">
 <pskc:EncryptionKey>
  <xenc11:DerivedKey>
   <xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
    <xenc11:PBKDF2-params><Salt><Specified>${salt.toString('base64')}</Specified></Salt><IterationCount>${iterations}</IterationCount><KeyLength>16</KeyLength></xenc11:PBKDF2-params>
   </xenc11:KeyDerivationMethod>
  </xenc11:DerivedKey>
 </pskc:EncryptionKey>
 <pskc:MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
  <pskc:MACKey><xenc:EncryptionMethod Algorithm="${AES128}"/><xenc:CipherData><xenc:CipherValue>${enc(macKey).toString('base64')}</xenc:CipherValue></xenc:CipherData></pskc:MACKey>
 </pskc:MACMethod>
${packages.join('\n')}
</pskc:KeyContainer>
`,
    { mode: 0o600 },
  );
}
