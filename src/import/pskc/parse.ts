/**
 * PSKC (RFC 6030) as a stream: the container header (EncryptionKey,
 * MACMethod) first, then one key package at a time, so a file of a million
 * tokens never sits in memory. Also reads the legacy draft forms vendors
 * still ship: SecretContainer / Device / DeviceId, <Data Name="SECRET">,
 * integers in base64, a container-wide IV.
 */
import { DataError } from '../../core/errors.js';
import { decodeBase64 } from '../../core/codecs.js';
import { buildRecord, problemOf } from '../record.js';
import { checkDataText } from '../../core/text-guard.js';
import type { ParseContext, ParseItem, SeedRecord } from '../types.js';
import { attr, child, childrenNamed, path, streamXmlBatches, textOf, type XmlNode } from '../xml.js';
import { PskcDecryptor, type PskcHeader } from './encryption.js';
import { boolAttr, checkPolicy, checkVersion, hashOfSuite, intAttr } from './rules.js';

const CONTAINERS = new Set(['keycontainer', 'secretcontainer']);

/** Local name of an algorithm URI: hotp, totp, ocra, pin ... ("urn:...:pskc:hotp", "...pskc#totp", "HOTP"). */
export function algorithmName(uri: string): string {
  // Every key package of a file names the same algorithm or two: remember the last answer.
  if (uri === lastAlgorithm.uri) return lastAlgorithm.name;
  const name = (uri.trim().split(/[:#/]/).pop() ?? '').toLowerCase();
  lastAlgorithm = { uri, name };
  return name;
}
let lastAlgorithm = { uri: '', name: '' };

/** python-pskc's rule for integers: decimal text, else base64 of ASCII digits or of a big-endian number. */
export function plainInteger(text: string, what: string): number {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  const bytes = decodeBase64(t, what);
  if (bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39)) return Number(bytes.toString('ascii'));
  return bytesToInteger(bytes, what);
}

function bytesToInteger(bytes: Buffer, what: string): number {
  const n = bytesToBigInt(bytes, what);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataError(`${what}: ${n} is too large`, { code: 'bad-number' });
  return Number(n);
}

function bytesToBigInt(bytes: Buffer, what: string): bigint {
  if (bytes.length === 0 || bytes.length > 8)
    throw new DataError(`${what}: ${bytes.length} bytes is not an integer`, { code: 'bad-number' });
  return bytes.reduce((acc, b) => acc * 256n + BigInt(b), 0n);
}

const MAX_COUNTER = (1n << 64n) - 1n;

/** An HOTP counter as python-pskc reads it, up to 2^64-1 (RFC 4226's 8-byte moving factor); empty is absent. */
function counterOf(v: Buffer | string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const text = typeof v === 'string' ? v.trim() : /^\d+$/.test(v.toString('latin1')) ? v.toString('latin1') : null;
  if (text === '') return undefined;
  let n: bigint;
  if (text !== null && /^\d+$/.test(text)) n = BigInt(text);
  else {
    const bytes = typeof v === 'string' ? decodeBase64(v.trim(), 'Counter') : v;
    n =
      bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39)
        ? BigInt(bytes.toString('ascii'))
        : bytesToBigInt(bytes, 'Counter');
  }
  if (n > MAX_COUNTER)
    throw new DataError(`Counter ${n} is beyond 2^64-1, the largest HOTP counter`, { code: 'bad-counter' });
  return n;
}

interface KeyFields {
  node: XmlNode;
  device: XmlNode | undefined;
  /** KeyPackage (RFC) or Device (legacy). */
  container: XmlNode;
}

/** The items of a PSKC file, one batch per piece of the file read (each yield costs a promise or two: one per record was measurable). */
export async function* parsePskcBatches(file: string, ctx: ParseContext): AsyncGenerator<ParseItem[]> {
  const header: PskcHeader = {};
  let decryptor: PskcDecryptor | null = null;
  let packageNo = 0;
  // PIN keys are looked up by Key Id from the PINPolicy that points at them; both sides may come in any order.
  for await (const xmlItems of streamXmlBatches(file, ctx, (p) => p.length === 2)) {
    const out: ParseItem[] = [];
    for (const item of xmlItems) {
      if (item.root) {
        // Legacy SecretContainer drafts number their own versions (1.2 ...); as python-pskc, only KeyContainer's is RFC 6030's.
        if (item.root.lower === 'keycontainer') checkVersion(item.root, `${ctx.fileName}:${item.root.line}`);
        if (!CONTAINERS.has(item.root.lower)) {
          throw new DataError(
            `${ctx.fileName}:${item.root.line}: the root element is <${item.root.name}>, not a PSKC KeyContainer: is this the right file, or a different format (--format)?`,
            {
              code: 'not-pskc',
            },
          );
        }
        continue;
      }
      const node = item.node;
      switch (node.lower) {
        case 'encryptionkey':
          header.encryptionKey = node;
          continue;
        case 'macmethod':
          header.macMethod = node;
          continue;
        case 'encryptionmethod':
          header.legacyEncryptionMethod = /none/i.test(attr(node, 'Algorithm') ?? '') ? undefined : node;
          continue;
        case 'digestmethod':
          header.legacyDigestMethod = node;
          continue;
        case 'macalgorithm':
          header.legacyMacAlgorithm = node;
          continue;
        case 'keypackage':
        case 'device':
          break;
        default:
          continue;
      }
      decryptor ??= new PskcDecryptor(header, ctx);
      const keys: KeyFields[] =
        node.lower === 'keypackage'
          ? childrenNamed(node, 'Key').map((k) => ({ node: k, device: child(node, 'DeviceInfo'), container: node }))
          : [...childrenNamed(node, 'Key'), ...childrenNamed(node, 'Secret')].map((k) => ({
              node: k,
              device: child(node, 'DeviceId') ?? child(node, 'DeviceInfo'),
              container: node,
            }));
      packageNo++;
      if (keys.length === 0) {
        out.push({
          problem: {
            where: `${ctx.fileName}:${node.line} (key package ${packageNo})`,
            message: 'the key package holds no Key',
            code: 'malformed-pskc',
          },
        });
        continue;
      }
      for (const k of keys) {
        const where = `${ctx.fileName}:${k.node.line} (key package ${packageNo})`;
        const serial =
          textOf(child(k.device, 'SerialNo')) ??
          attr(k.node, 'Id') ??
          attr(k.node, 'KeyId') ??
          attr(k.node, 'SecretId');
        try {
          // Only the transport key may need a person (the password prompt); everything after it is synchronous.
          if (!decryptor.keyReady && (decryptor.legacyEncrypted || hasDescendant(k.node, 'encryptedvalue')))
            await decryptor.key();
          const r = readKey(k, decryptor, where);
          if (r === 'pin') {
            out.push({
              skip: {
                where,
                serial,
                message: `skipped: the PIN of token ${serial ?? '?'} (Key ${attr(k.node, 'Id') ?? '?'}), not an OTP key; the token checks its PIN itself`,
              },
            });
            continue;
          }
          out.push({ record: r });
        } catch (err) {
          if (isFileFatal(err)) throw err;
          out.push({ problem: { ...problemOf(err, where, serial), serial } });
        }
      }
    }
    if (out.length > 0) yield out;
  }
  if (packageNo === 0)
    throw new DataError(`${ctx.fileName}: the PSKC file holds no key packages`, { code: 'empty-file' });
}

// Why: these errors concern the whole file (transport key, MAC), so they stop the import rather than become one problem per key.
const FILE_FATAL_CODES = new Set([
  'wrong-password',
  'password-needed',
  'key-needed',
  'bad-key-length',
  'unsupported-mac',
  'x509-encrypted',
]);

function isFileFatal(err: unknown): boolean {
  return err instanceof DataError && FILE_FATAL_CODES.has(err.code);
}

export async function* parsePskc(file: string, ctx: ParseContext): AsyncGenerator<ParseItem> {
  for await (const batch of parsePskcBatches(file, ctx)) yield* batch;
}

function hasDescendant(node: XmlNode, lowerName: string): boolean {
  for (const c of node.children) if (c.lower === lowerName || hasDescendant(c, lowerName)) return true;
  return false;
}

/** Reads a value: PlainValue (or legacy Value) / EncryptedValue + ValueMAC. */
function readValue(
  node: XmlNode | undefined,
  dec: PskcDecryptor,
  where: string,
  legacy: boolean,
  isSecret = false,
): Buffer | string | undefined {
  if (!node) return undefined;
  if (legacy) {
    const v = textOf(child(node, 'Value'));
    if (v === undefined) return undefined;
    // Legacy files encrypt the secret, and any other value that carries a ValueDigest (python-pskc's rule); the rest are plain (base64) integers.
    const digest = textOf(child(node, 'ValueDigest'));
    return dec.legacyEncrypted && (isSecret || digest !== undefined) ? dec.decryptLegacy(v, digest, where) : v;
  }
  const plain = child(node, 'PlainValue');
  if (plain) return textOf(plain) ?? '';
  const enc = child(node, 'EncryptedValue');
  if (enc) return dec.decrypt(enc, child(node, 'ValueMAC'), where);
  return undefined;
}

function readInteger(
  node: XmlNode | undefined,
  dec: PskcDecryptor,
  where: string,
  what: string,
  legacy: boolean,
): number | undefined {
  const v = readValue(node, dec, where, legacy);
  if (v === undefined) return undefined;
  return typeof v === 'string'
    ? plainInteger(v, what)
    : /^\d+$/.test(v.toString('latin1'))
      ? Number(v.toString('latin1'))
      : bytesToInteger(v, what);
}

/** The Data element of one kind among a key's Data elements: RFC <Data><Counter>, or legacy <Data Name="COUNTER">. */
function dataOf(data: XmlNode[], rfcName: string, legacyName: string): { node: XmlNode | undefined; legacy: boolean } {
  for (const d of data) {
    const name = attr(d, 'Name');
    if (name !== undefined) {
      if (name.toUpperCase() === legacyName) return { node: d, legacy: true };
    } else {
      const c = child(d, rfcName);
      if (c) return { node: c, legacy: false };
    }
  }
  return { node: undefined, legacy: false };
}

/** <TimeDrift> in steps: a signed decimal, or signed big-endian bytes (first 6) in a binary value. */
function readDrift(dd: ReturnType<typeof dataOf>, dec: PskcDecryptor, where: string): number | undefined {
  if (!dd.node) return undefined;
  const v = readValue(dd.node, dec, where, dd.legacy);
  if (typeof v === 'string') return /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : plainInteger(v, 'TimeDrift');
  if (v) return v.readIntBE(0, Math.min(v.length, 6));
  return undefined;
}

function readKey(k: KeyFields, dec: PskcDecryptor, where: string): SeedRecord | 'pin' {
  const key = k.node;
  const algUri = attr(key, 'Algorithm') ?? attr(key, 'KeyAlgorithm') ?? attr(key, 'SecretAlgorithm') ?? '';
  const alg = algorithmName(algUri);
  if (alg === 'pin') return 'pin';
  if (alg !== 'hotp' && alg !== 'totp') {
    throw new DataError(
      `algorithm '${algUri || '(none)'}' cannot be served by tokensmith (it serves HOTP and TOTP only): remove this key package or import the file elsewhere`,
      {
        code: 'unsupported-algorithm',
      },
    );
  }
  const keyId = attr(key, 'Id') ?? attr(key, 'KeyId') ?? attr(key, 'SecretId');
  const params = child(key, 'AlgorithmParameters');
  const response = child(params, 'ResponseFormat') ?? path(key, 'Usage', 'ResponseFormat');
  const encoding = attr(response, 'Encoding') ?? attr(response, 'format');
  if (encoding && encoding.toUpperCase() !== 'DECIMAL') {
    throw new DataError(`response encoding ${encoding} cannot be served (tokensmith shows decimal codes)`, {
      code: 'unsupported-algorithm',
    });
  }
  const suite = textOf(child(params, 'Suite'));
  const algorithm = hashOfSuite(suite);
  const digits = intAttr(response, 'Length');
  const checkDigit = boolAttr(response, 'CheckDigits') ?? boolAttr(response, 'CheckDigit');
  if (checkDigit && !digits)
    throw new DataError(
      'ResponseFormat CheckDigits="true" without a Length: how many digits come before the check digit?',
      { code: 'bad-digits' },
    );
  const challenge = child(params, 'ChallengeFormat');
  boolAttr(challenge, 'CheckDigits') ?? boolAttr(challenge, 'CheckDigit');
  intAttr(challenge, 'Min');
  intAttr(challenge, 'Max');
  const policy = child(key, 'Policy');
  const pinPolicy = child(policy, 'PINPolicy');
  const pinMode = attr(pinPolicy, 'PINUsageMode');
  if (pinMode && pinMode.toLowerCase() !== 'local') {
    throw new DataError(`the key needs a server-side PIN (PINUsageMode ${pinMode}), which tokensmith cannot enforce`, {
      code: 'unsupported-policy',
    });
  }
  checkPolicy(policy);

  const data = childrenNamed(key, 'Data');
  const secretData = dataOf(data, 'Secret', 'SECRET');
  const secretValue = readValue(secretData.node, dec, where, secretData.legacy, true);
  if (secretValue === undefined) throw new DataError('the key has no secret (Data/Secret)', { code: 'missing-secret' });
  const seed = typeof secretValue === 'string' ? decodeBase64(secretValue, 'the secret') : secretValue;

  const cd = dataOf(data, 'Counter', 'COUNTER');
  const counter = counterOf(readValue(cd.node, dec, where, cd.legacy));
  const td = dataOf(data, 'Time', 'TIME');
  const time = readInteger(td.node, dec, where, 'Time', td.legacy);
  const id = dataOf(data, 'TimeInterval', 'TIME_INTERVAL');
  const interval = readInteger(id.node, dec, where, 'TimeInterval', id.legacy);
  const drift = readDrift(dataOf(data, 'TimeDrift', 'TIME_DRIFT'), dec, where);

  const dev = k.device;
  const attributes = keyAttributes(k, where, keyId, suite);
  const serial = textOf(child(dev, 'SerialNo')) ?? keyId;
  const exact =
    alg === 'hotp' && counter !== undefined && counter > BigInt(Number.MAX_SAFE_INTEGER)
      ? counter.toString()
      : undefined;
  const record = buildRecord(
    {
      serial,
      manufacturer: textOf(child(dev, 'Manufacturer')),
      model: textOf(child(dev, 'Model')),
      type: alg,
      algorithm,
      digits,
      period: alg === 'totp' ? (interval ?? 30) : 30,
      counter: alg === 'hotp' && counter !== undefined ? (exact ? Number.MAX_SAFE_INTEGER : Number(counter)) : 0,
      driftSteps: drift ?? 0,
      seed,
      attributes,
    },
    where,
  );
  // RFC 6238 T0 (PSKC <Time>) moves every step: kept with the token, used for its codes.
  if (alg === 'totp' && time) record.t0 = time;
  if (checkDigit) record.checkDigit = true;
  if (exact) record.counterExact = exact;
  return record;
}

/** The facts of a key package kept with the token (never the seed): ids, issuer, user, dates, policy. */
function keyAttributes(
  k: KeyFields,
  where: string,
  keyId: string | undefined,
  suite: string | undefined,
): Record<string, unknown> {
  const key = k.node;
  const dev = k.device;
  const policy = child(key, 'Policy');
  const pinPolicy = child(policy, 'PINPolicy');
  const attributes: Record<string, unknown> = { importedFrom: where };
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') attributes[name] = value;
  };
  // Names shown to operators and users are refused when they carry control or bidi characters.
  const putName = (name: string, value: string | undefined, field: 'issuer' | 'name') =>
    put(name, value === undefined ? undefined : checkDataText(value, field, name, where));
  put('keyId', keyId);
  putName('issuer', textOf(child(key, 'Issuer')), 'issuer');
  putName('friendlyName', textOf(child(key, 'FriendlyName')), 'name');
  putName('userId', textOf(child(key, 'UserId')), 'name');
  putName('deviceUserId', textOf(child(dev, 'UserId')), 'name');
  put('issueNo', textOf(child(dev, 'IssueNo')));
  put('cryptoModuleId', textOf(path(k.container, 'CryptoModuleInfo', 'Id')));
  put('deviceStartDate', textOf(child(dev, 'StartDate')));
  put('deviceExpiryDate', textOf(child(dev, 'ExpiryDate')) ?? textOf(child(dev, 'Expiry')));
  put('startDate', textOf(child(policy, 'StartDate')));
  put('expiryDate', textOf(child(policy, 'ExpiryDate')));
  put('suite', suite);
  const usage = childrenNamed(policy, 'KeyUsage')
    .map((u) => textOf(u))
    .filter((u): u is string => Boolean(u));
  if (usage.length) attributes.keyUsage = usage;
  if (pinPolicy) attributes.pinPolicy = { ...pinPolicy.attrs };
  return attributes;
}
