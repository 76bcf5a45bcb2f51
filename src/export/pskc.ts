/**
 * The PSKC writer (RFC 6030): one KeyPackage per token, in the element order
 * of the RFC's schema so that `pskctool --validate` accepts the file. Seeds
 * are encrypted under the transport key with a ValueMAC under a separate MAC
 * key, unless the caller asked for plaintext.
 */
import { encodeBase64 } from '../core/codecs.js';
import { encryptValue, PBKDF2_URI, valueMac, ValueEncryptor, type TransportKeys } from './pskc-crypto.js';
import type { ExportToken, FormatWriter } from './types.js';

const NS = {
  pskc: 'urn:ietf:params:xml:ns:keyprov:pskc',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
  xenc11: 'http://www.w3.org/2009/xmlenc11#',
  pkcs5: 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
};

export const PSKC_ALGORITHM = {
  hotp: 'urn:ietf:params:xml:ns:keyprov:pskc:hotp',
  totp: 'urn:ietf:params:xml:ns:keyprov:pskc:totp',
} as const;

// Characters XML 1.0 cannot carry at all, even escaped.
const XML_FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Why a token's text fields cannot go into XML, or null. */
export function xmlRefusal(t: ExportToken): string | null {
  const { serial, manufacturer, model } = t.token;
  for (const [what, v] of [
    ['serial', serial],
    ['manufacturer', manufacturer],
    ['model', model ?? ''],
    ['user', t.user ?? ''],
  ] as const) {
    if (XML_FORBIDDEN.test(v)) return `the ${what} holds control characters that XML cannot carry`;
  }
  return null;
}

export interface PskcWriterOptions {
  /** Transport keys for an encrypted file; null writes PlainValue seeds. */
  keys: TransportKeys | null;
  /** Write Key/UserId for assigned tokens (the login). */
  includeUser?: boolean;
}

export class PskcWriter implements FormatWriter {
  readonly encrypted: boolean;
  readonly carriesCodeFields = true;
  readonly carriesDrift = true;
  private readonly encryptor: ValueEncryptor | null;
  constructor(private readonly opts: PskcWriterOptions) {
    this.encrypted = opts.keys !== null;
    this.encryptor = opts.keys ? new ValueEncryptor(opts.keys.cipher, opts.keys.key) : null;
  }

  refuse(t: ExportToken): string | null {
    return xmlRefusal(t);
  }

  header(): string {
    const k = this.opts.keys;
    const ns = [`xmlns:pskc="${NS.pskc}"`];
    if (k) {
      ns.push(`xmlns:xenc="${NS.xenc}"`);
      if (k.source.kind === 'password') ns.push(`xmlns:xenc11="${NS.xenc11}"`, `xmlns:pkcs5="${NS.pkcs5}"`);
      else ns.push(`xmlns:ds="${NS.ds}"`);
    }
    let out = `<?xml version="1.0" encoding="UTF-8"?>\n<pskc:KeyContainer Version="1.0" ${ns.join(' ')}>\n`;
    if (!k) return out;
    out += '  <pskc:EncryptionKey>\n';
    if (k.source.kind === 'password') {
      // PRF left out: the schema's default is HMAC-SHA1, which is what we derive with.
      out +=
        '    <xenc11:DerivedKey>\n' +
        `      <xenc11:KeyDerivationMethod Algorithm="${PBKDF2_URI}">\n` +
        '        <pkcs5:PBKDF2-params>\n' +
        `          <Salt><Specified>${encodeBase64(k.source.salt)}</Specified></Salt>\n` +
        `          <IterationCount>${k.source.iterations}</IterationCount>\n` +
        `          <KeyLength>${k.cipher.keyBytes}</KeyLength>\n` +
        '        </pkcs5:PBKDF2-params>\n' +
        '      </xenc11:KeyDerivationMethod>\n' +
        '    </xenc11:DerivedKey>\n';
    } else {
      out += `    <ds:KeyName>${escapeXml(k.source.keyName)}</ds:KeyName>\n`;
    }
    out += '  </pskc:EncryptionKey>\n';
    out +=
      `  <pskc:MACMethod Algorithm="${k.mac.uri}">\n` +
      '    <pskc:MACKey>\n' +
      `      <xenc:EncryptionMethod Algorithm="${k.cipher.uri}"/>\n` +
      `      <xenc:CipherData><xenc:CipherValue>${encodeBase64(encryptValue(k.cipher, k.key, k.macKey))}</xenc:CipherValue></xenc:CipherData>\n` +
      '    </pskc:MACKey>\n' +
      '  </pskc:MACMethod>\n';
    return out;
  }

  entry(t: ExportToken): string {
    const tok = t.token;
    let out = '  <pskc:KeyPackage>\n    <pskc:DeviceInfo>\n';
    if (tok.manufacturer) out += `      <pskc:Manufacturer>${escapeXml(tok.manufacturer)}</pskc:Manufacturer>\n`;
    out += `      <pskc:SerialNo>${escapeXml(tok.serial)}</pskc:SerialNo>\n`;
    if (tok.model) out += `      <pskc:Model>${escapeXml(tok.model)}</pskc:Model>\n`;
    out += '    </pskc:DeviceInfo>\n';
    out += `    <pskc:Key Id="${escapeXml(tok.serial)}" Algorithm="${PSKC_ALGORITHM[tok.type as 'hotp' | 'totp']}">\n`;
    out +=
      '      <pskc:AlgorithmParameters>\n' +
      `        <pskc:Suite>${tok.algorithm}</pskc:Suite>\n` +
      `        <pskc:ResponseFormat Length="${tok.digits}" Encoding="DECIMAL"${tok.checkDigit ? ' CheckDigits="true"' : ''}/>\n` +
      '      </pskc:AlgorithmParameters>\n';
    out += '      <pskc:Data>\n' + this.secret(t.seed);
    if (tok.type === 'hotp')
      out += `        <pskc:Counter><pskc:PlainValue>${tok.counterExact ?? tok.counter}</pskc:PlainValue></pskc:Counter>\n`;
    else {
      // RFC 6030 <Time> is T0 for TOTP (RFC 6238): written when not the Unix epoch.
      if (tok.t0) out += `        <pskc:Time><pskc:PlainValue>${tok.t0}</pskc:PlainValue></pskc:Time>\n`;
      out += `        <pskc:TimeInterval><pskc:PlainValue>${tok.period}</pskc:PlainValue></pskc:TimeInterval>\n`;
      out += `        <pskc:TimeDrift><pskc:PlainValue>${tok.driftSteps}</pskc:PlainValue></pskc:TimeDrift>\n`;
    }
    out += '      </pskc:Data>\n';
    if (this.opts.includeUser && t.user) out += `      <pskc:UserId>${escapeXml(t.user)}</pskc:UserId>\n`;
    out += '    </pskc:Key>\n  </pskc:KeyPackage>\n';
    return out;
  }

  private secret(seed: Buffer): string {
    const k = this.opts.keys;
    if (!k) return `        <pskc:Secret><pskc:PlainValue>${encodeBase64(seed)}</pskc:PlainValue></pskc:Secret>\n`;
    const cv = this.encryptor!.encrypt(seed);
    return (
      '        <pskc:Secret>\n' +
      '          <pskc:EncryptedValue>\n' +
      `            <xenc:EncryptionMethod Algorithm="${k.cipher.uri}"/>\n` +
      `            <xenc:CipherData><xenc:CipherValue>${encodeBase64(cv)}</xenc:CipherValue></xenc:CipherData>\n` +
      '          </pskc:EncryptedValue>\n' +
      `          <pskc:ValueMAC>${encodeBase64(valueMac(k.mac, k.macKey, cv))}</pskc:ValueMAC>\n` +
      '        </pskc:Secret>\n'
    );
  }

  footer(): string {
    return '</pskc:KeyContainer>\n';
  }
}
