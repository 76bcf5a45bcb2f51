/**
 * The encryption side of a PSKC file: which transport key (pre-shared
 * `--key`, or PBKDF2 from a password), the MAC method and MAC key, and the
 * decryption of one EncryptedValue with its ValueMAC checked.
 */
import { DataError } from '../../core/errors.js';
import { decodeBase64 } from '../../core/codecs.js';
import { attr, child, path, textOf, type XmlNode } from '../xml.js';
import type { ParseContext } from '../types.js';
import { HmacSha1 } from './hmac-sha1.js';
import {
  cipherByUri,
  decryptValue,
  DecryptError,
  hmac,
  macEquals,
  macHashByUri,
  pbkdf2,
  type CipherSpec,
  type MacHash,
} from './crypto.js';

export interface PskcHeader {
  encryptionKey?: XmlNode;
  macMethod?: XmlNode;
  /** Legacy (draft) container-level EncryptionMethod, maybe with a file-wide IV. */
  legacyEncryptionMethod?: XmlNode;
  legacyDigestMethod?: XmlNode;
  /** draft-ietf-keyprov-pskc-02's container-level <MACAlgorithm> (a URI as text). */
  legacyMacAlgorithm?: XmlNode;
}

export class WrongKeyError extends DataError {
  constructor(message: string, where?: string) {
    super(message, { code: 'wrong-password', where });
  }
}

const PBKDF2_DEFAULT_ITERATIONS_LIMIT = 10_000_000;

export class PskcDecryptor {
  private transportKey: Buffer | null = null;
  private macKey: Buffer | null | undefined = undefined;
  private readonly macHash: MacHash;
  private sha1: HmacSha1 | undefined;
  /** Whether any value decrypted yet: a failure before that means a wrong key or password. */
  private decryptedOnce = false;
  /** For messages: "the password" or "the key". */
  private keySource = 'the key';

  constructor(
    private readonly header: PskcHeader,
    private readonly ctx: ParseContext,
  ) {
    const macUri =
      attr(header.macMethod, 'Algorithm') ??
      attr(header.legacyDigestMethod, 'Algorithm') ??
      attr(header.legacyDigestMethod, 'algorithm') ??
      textOf(header.legacyMacAlgorithm);
    const h = macUri ? macHashByUri(macUri) : 'sha1';
    if (!h && header.macMethod)
      throw new DataError(
        `${ctx.fileName}:${header.macMethod.line}: unknown MAC method '${macUri}': tokensmith knows hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 and hmac-sha512`,
        {
          code: 'unsupported-mac',
        },
      );
    this.macHash = h ?? 'sha1';
  }

  /** Whether values are encrypted the legacy way, under a container-level EncryptionMethod. */
  get legacyEncrypted(): boolean {
    return this.header.legacyEncryptionMethod !== undefined;
  }

  /** Whether the transport key is known (then no key package needs to wait for it). */
  get keyReady(): boolean {
    return this.transportKey !== null;
  }

  /** The transport key, derived or asked for on first use. */
  async key(): Promise<Buffer> {
    if (this.transportKey) return this.transportKey;
    const ek = this.header.encryptionKey;
    const derived = path(ek, 'DerivedKey');
    const f = this.ctx.fileName;
    if (child(ek, 'X509Data') || /rsa/i.test(attr(child(ek, 'EncryptionMethod'), 'Algorithm') ?? '')) {
      throw new DataError(
        `${f}: the file is encrypted to an X.509 certificate (RSA, RFC 6030 section 6.3): tokensmith cannot decrypt it, as that needs the certificate's private key, and neither --key nor --password can stand in for it; ask the sender for a file under a pre-shared key or a password`,
        { code: 'x509-encrypted' },
      );
    }
    const legacyPbe = /^pbe-/i.test(attr(this.header.legacyEncryptionMethod, 'Algorithm') ?? '')
      ? this.header.legacyEncryptionMethod
      : undefined;
    if (this.ctx.key) {
      this.keySource = 'the key (--key)';
      this.transportKey = this.ctx.key;
    } else if (legacyPbe) {
      // draft-hoyer: <EncryptionMethod algorithm="PBE-3DES112-CBC"> with PBESalt and PBEIterationCount: PBKDF2-HMAC-SHA1.
      let password = this.ctx.password;
      if (password === undefined && this.ctx.askPassword) password = await this.ctx.askPassword();
      if (password === undefined)
        throw new DataError(
          `${f}: the file is encrypted with a password (${attr(legacyPbe, 'Algorithm')}): give --password or --password-file`,
          { code: 'password-needed' },
        );
      this.keySource = 'the password';
      this.transportKey = deriveLegacyPbe(legacyPbe, password, f);
    } else if (derived) {
      let password = this.ctx.password;
      if (password === undefined && this.ctx.askPassword) password = await this.ctx.askPassword();
      if (password === undefined) {
        throw new DataError(
          `${f}: the file is encrypted with a password (PBKDF2) and no one can be asked for it: give --password or --password-file`,
          { code: 'password-needed' },
        );
      }
      this.keySource = 'the password';
      this.transportKey = derivePbkdf2(derived, password, f);
    } else {
      const name = textOf(child(ek, 'KeyName'));
      if (this.ctx.password !== undefined) {
        throw new DataError(
          `${f}: the file is encrypted with a pre-shared key${name ? ` ('${name}')` : ''}, not a password: give --key <hex>`,
          { code: 'key-needed' },
        );
      }
      throw new DataError(
        `${f}: the file is encrypted with a pre-shared key${name ? ` ('${name}')` : ''}: give it with --key <hex>`,
        { code: 'key-needed' },
      );
    }
    return this.transportKey;
  }

  /** The transport key once `key()` has been awaited (decryption itself is synchronous, for speed). */
  private get readyKey(): Buffer {
    if (!this.transportKey) throw new Error('PskcDecryptor: key() must be awaited before decrypting');
    return this.transportKey;
  }

  /** The MAC key: MACMethod/MACKey decrypted with the transport key, else the transport key itself. */
  private getMacKey(): Buffer {
    if (this.macKey) return this.macKey;
    const mk = child(this.header.macMethod, 'MACKey');
    if (!mk) {
      this.macKey = this.readyKey;
      return this.macKey;
    }
    const where = `${this.ctx.fileName}:${mk.line} (MACMethod/MACKey)`;
    try {
      this.macKey = this.decryptRaw(mk, where);
    } catch (err) {
      if (err instanceof DecryptError) {
        throw new WrongKeyError(
          `${where}: the MAC key does not decrypt with ${this.keySource}: wrong password or key? Nothing imported.`,
          where,
        );
      }
      throw err;
    }
    return this.macKey;
  }

  /** Whether `mac` is the ValueMAC of `value` under the MAC key (HMAC-SHA1 through a key schedule computed once). */
  private macMatches(mac: Buffer, value: Buffer): boolean {
    const macKey = this.getMacKey();
    if (this.macHash !== 'sha1') return macEquals(mac, hmac(this.macHash, macKey, value));
    this.sha1 ??= new HmacSha1(macKey);
    return this.sha1.verify(value, mac);
  }

  private cipherOf(node: XmlNode, where: string): CipherSpec {
    const em = child(node, 'EncryptionMethod');
    let uri = attr(em, 'Algorithm') ?? attr(this.header.legacyEncryptionMethod, 'Algorithm');
    // draft-ietf-keyprov-pskc-02: PKCS #5 PBES2 names the cipher in its EncryptionScheme; the key is the DerivedKey's PBKDF2.
    if (uri && /pkcs-5#pbes2$/i.test(uri.trim())) uri = attr(child(em, 'EncryptionScheme'), 'Algorithm') ?? uri;
    if (!uri)
      throw new DataError(`${where}: encrypted value without an EncryptionMethod algorithm`, {
        code: 'unsupported-cipher',
      });
    const spec = cipherByUri(uri);
    if (!spec) {
      throw new DataError(
        `${where}: unknown cipher '${uri}': tokensmith decrypts aes128/192/256-cbc, tripledes-cbc, camellia128/192/256-cbc, kw-aes128/192/256, kw-tripledes and kw-camellia128/192/256`,
        { code: 'unsupported-cipher' },
      );
    }
    return spec;
  }

  private decryptRaw(node: XmlNode, where: string): Buffer {
    const spec = this.cipherOf(node, where);
    const cv = textOf(path(node, 'CipherData', 'CipherValue'));
    if (!cv)
      throw new DataError(`${where}: encrypted value without CipherData/CipherValue`, { code: 'malformed-pskc' });
    const data = decodeBase64(cv, 'CipherValue');
    return decryptValue(spec, this.readyKey, data);
  }

  /**
   * Decrypts an RFC 6030 EncryptedValue and checks its ValueMAC (over IV ||
   * ciphertext, or over the plaintext as old drafts did).
   */
  decrypt(encrypted: XmlNode, valueMac: XmlNode | undefined, where: string): Buffer {
    const spec = this.cipherOf(encrypted, where);
    const cv = textOf(path(encrypted, 'CipherData', 'CipherValue'));
    if (!cv)
      throw new DataError(`${where}: encrypted value without CipherData/CipherValue`, { code: 'malformed-pskc' });
    const data = decodeBase64(cv, 'CipherValue');
    const key = this.readyKey;
    let plain: Buffer;
    try {
      plain = decryptValue(spec, key, data);
    } catch (err) {
      if (err instanceof DecryptError && !this.decryptedOnce) {
        throw new WrongKeyError(
          `${where}: the first encrypted value does not decrypt with ${this.keySource} (${err.message}): wrong password or key? Nothing imported.`,
          where,
        );
      }
      throw err;
    }
    const macText = textOf(valueMac);
    if (macText && !this.header.macMethod && !this.header.legacyDigestMethod && !this.header.legacyMacAlgorithm) {
      throw new DataError(
        `${where}: the value carries a ValueMAC but the file has no MACMethod saying how it was computed (algorithm and MAC key): it cannot be checked, so it is not trusted; ask the sender for a file with its MACMethod`,
        { code: 'no-mac-method' },
      );
    }
    if (macText) {
      const mac = decodeBase64(macText, 'ValueMAC');
      if (!this.macMatches(mac, data) && !this.macMatches(mac, plain)) {
        throw new DataError(
          `${where}: the ValueMAC does not match: the value was altered (or the file is damaged); nothing imported`,
          { code: 'mac-mismatch' },
        );
      }
    }
    this.decryptedOnce = true;
    return plain;
  }

  /** Legacy draft form: <Value> holds ciphertext under the container's EncryptionMethod (maybe with a file-wide IV); <ValueDigest> is an HMAC of the plaintext with the encryption key. */
  decryptLegacy(value: string, digest: string | undefined, where: string): Buffer {
    const em = this.header.legacyEncryptionMethod!;
    const uri = attr(em, 'Algorithm') ?? '';
    const spec = cipherByUri(uri);
    if (!spec) throw new DataError(`${where}: unknown cipher '${uri}'`, { code: 'unsupported-cipher' });
    const ivText = textOf(child(em, 'IV'));
    const key = this.readyKey;
    let plain: Buffer;
    try {
      plain = decryptValue(spec, key, decodeBase64(value, 'Value'), ivText ? decodeBase64(ivText, 'IV') : undefined);
    } catch (err) {
      if (err instanceof DecryptError && !this.decryptedOnce)
        throw new WrongKeyError(
          `${where}: the first encrypted value does not decrypt with ${this.keySource}: wrong password or key? Nothing imported.`,
          where,
        );
      throw err;
    }
    if (digest) {
      const mac = decodeBase64(digest, 'ValueDigest');
      if (
        !macEquals(mac, hmac(this.macHash, key, plain)) &&
        !macEquals(mac, hmac(this.macHash, key, decodeBase64(value, 'Value')))
      ) {
        throw new DataError(`${where}: the ValueDigest does not match: the value was altered; nothing imported`, {
          code: 'mac-mismatch',
        });
      }
    }
    this.decryptedOnce = true;
    return plain;
  }
}

function derivePbkdf2(derived: XmlNode, password: string, f: string): Buffer {
  const method = child(derived, 'KeyDerivationMethod');
  const where = `${f}:${derived.line} (EncryptionKey/DerivedKey)`;
  const alg = attr(method, 'Algorithm') ?? '';
  if (!/pbkdf2$/i.test(alg))
    throw new DataError(`${where}: key derivation '${alg}' is not PBKDF2, the only one tokensmith knows`, {
      code: 'unsupported-kdf',
    });
  const params = child(method, 'PBKDF2-params');
  const salt = textOf(path(params, 'Salt', 'Specified'));
  if (!salt) throw new DataError(`${where}: PBKDF2 without Salt/Specified`, { code: 'malformed-pskc' });
  const iterations = Number(textOf(child(params, 'IterationCount')));
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > PBKDF2_DEFAULT_ITERATIONS_LIMIT) {
    throw new DataError(`${where}: PBKDF2 IterationCount must be 1 to ${PBKDF2_DEFAULT_ITERATIONS_LIMIT}`, {
      code: 'malformed-pskc',
    });
  }
  const lengthText = textOf(child(params, 'KeyLength'));
  const keyLength = lengthText ? Number(lengthText) : 16;
  if (!Number.isSafeInteger(keyLength) || keyLength < 8 || keyLength > 64)
    throw new DataError(`${where}: PBKDF2 KeyLength ${lengthText} is not a key length`, { code: 'malformed-pskc' });
  const prfUri = attr(child(params, 'PRF'), 'Algorithm');
  const prf = prfUri ? macHashByUri(prfUri) : 'sha1';
  if (!prf) throw new DataError(`${where}: unknown PBKDF2 PRF '${prfUri}'`, { code: 'unsupported-kdf' });
  return pbkdf2(password, decodeBase64(salt, 'PBKDF2 salt'), iterations, keyLength, prf);
}

/** The key of a draft-hoyer PBE-… container: PBKDF2-HMAC-SHA1 over PBESalt and PBEIterationCount, as long as the cipher's key (3DES112: 16 bytes). */
function deriveLegacyPbe(method: XmlNode, password: string, f: string): Buffer {
  const where = `${f}:${method.line} (EncryptionMethod)`;
  const alg = (attr(method, 'Algorithm') ?? '').toLowerCase();
  const salt = textOf(child(method, 'PBESalt'));
  if (!salt) throw new DataError(`${where}: ${alg} without PBESalt`, { code: 'malformed-pskc' });
  const iterations = Number(textOf(child(method, 'PBEIterationCount')));
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > PBKDF2_DEFAULT_ITERATIONS_LIMIT) {
    throw new DataError(`${where}: PBEIterationCount must be 1 to ${PBKDF2_DEFAULT_ITERATIONS_LIMIT}`, {
      code: 'malformed-pskc',
    });
  }
  const keyLength = alg.includes('3des112')
    ? 16
    : alg.includes('3des')
      ? 24
      : Number(/aes(\d+)/.exec(alg)?.[1] ?? 128) / 8;
  return pbkdf2(password, decodeBase64(salt, 'PBESalt'), iterations, keyLength, 'sha1');
}
