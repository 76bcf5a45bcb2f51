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
import { bytesToInteger, counterOf, plainInteger } from './integers.js';

export { plainInteger } from './integers.js';
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

interface KeyFields {
  node: XmlNode;
  device: XmlNode | undefined;
  /** KeyPackage (RFC) or Device (legacy). */
  container: XmlNode;
}

/** The items of a PSKC file, one batch per piece of the file read (each yield costs a promise or two: one per record was measurable). */
export async function* parsePskcBatches(file: string, ctx: ParseContext): AsyncGenerator<ParseItem[]> {
  const header: PskcHeader = {};
  const state: { decryptor: PskcDecryptor | null; packageNo: number } = { decryptor: null, packageNo: 0 };
  for await (const xmlItems of streamXmlBatches(file, ctx, (p) => p.length === 2)) {
    const out: ParseItem[] = [];
    for (const item of xmlItems) {
      if (item.root) checkRoot(item.root, ctx);
      else if (isKeyPackage(item.node, header)) {
        state.decryptor ??= new PskcDecryptor(header, ctx);
        state.packageNo++;
        await readPackage(item.node, state.decryptor, state.packageNo, ctx, out);
      }
    }
    if (out.length > 0) yield out;
  }
  if (state.packageNo === 0)
    throw new DataError(`${ctx.fileName}: the PSKC file holds no key packages`, { code: 'empty-file' });
}

/** The root must be a KeyContainer (RFC 6030) or a legacy SecretContainer. */
function checkRoot(root: XmlNode, ctx: ParseContext): void {
  // Legacy SecretContainer drafts number their own versions (1.2 ...); as python-pskc, only KeyContainer's is RFC 6030's.
  if (root.lower === 'keycontainer') checkVersion(root, `${ctx.fileName}:${root.line}`);
  if (!CONTAINERS.has(root.lower)) {
    throw new DataError(
      `${ctx.fileName}:${root.line}: the root element is <${root.name}>, not a PSKC KeyContainer: is this the right file, or a different format (--format)?`,
      { code: 'not-pskc' },
    );
  }
}

/** Takes a container-level element into the header; true for a key package (RFC) or device (legacy) to read. */
function isKeyPackage(node: XmlNode, header: PskcHeader): boolean {
  switch (node.lower) {
    case 'encryptionkey':
      header.encryptionKey = node;
      return false;
    case 'macmethod':
      header.macMethod = node;
      return false;
    case 'encryptionmethod':
      header.legacyEncryptionMethod = /none/i.test(attr(node, 'Algorithm') ?? '') ? undefined : node;
      return false;
    case 'digestmethod':
      header.legacyDigestMethod = node;
      return false;
    case 'macalgorithm':
      header.legacyMacAlgorithm = node;
      return false;
    default:
      return node.lower === 'keypackage' || node.lower === 'device';
  }
}

/** The keys of one package, each a record, a skip (a PIN key) or a problem, into `out`. */
async function readPackage(
  node: XmlNode,
  decryptor: PskcDecryptor,
  packageNo: number,
  ctx: ParseContext,
  out: ParseItem[],
): Promise<void> {
  const keys: KeyFields[] =
    node.lower === 'keypackage'
      ? childrenNamed(node, 'Key').map((k) => ({ node: k, device: child(node, 'DeviceInfo'), container: node }))
      : [...childrenNamed(node, 'Key'), ...childrenNamed(node, 'Secret')].map((k) => ({
          node: k,
          device: child(node, 'DeviceId') ?? child(node, 'DeviceInfo'),
          container: node,
        }));
  if (keys.length === 0) {
    out.push({
      problem: {
        where: `${ctx.fileName}:${node.line} (key package ${packageNo})`,
        message: 'the key package holds no Key',
        code: 'malformed-pskc',
      },
    });
    return;
  }
  for (const k of keys)
    out.push(await readOneKey(k, decryptor, `${ctx.fileName}:${k.node.line} (key package ${packageNo})`, ctx));
}

async function readOneKey(
  k: KeyFields,
  decryptor: PskcDecryptor,
  where: string,
  ctx: ParseContext,
): Promise<ParseItem> {
  const serial =
    textOf(child(k.device, 'SerialNo')) ?? attr(k.node, 'Id') ?? attr(k.node, 'KeyId') ?? attr(k.node, 'SecretId');
  try {
    // Only the transport key may need a person (the password prompt); everything after it is synchronous.
    if (!decryptor.keyReady && (decryptor.legacyEncrypted || hasDescendant(k.node, 'encryptedvalue')))
      await decryptor.key();
    const r = readKey(k, decryptor, where, ctx);
    if (r !== 'pin') return { record: r };
    return {
      skip: {
        where,
        serial,
        message: `skipped: the PIN of token ${serial ?? '?'} (Key ${attr(k.node, 'Id') ?? '?'}), not an OTP key; the token checks its PIN itself`,
      },
    };
  } catch (err) {
    if (isFileFatal(err)) throw err;
    return { problem: { ...problemOf(err, where, serial), serial } };
  }
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

/** How a key's codes look, from its Algorithm, AlgorithmParameters and Policy; refused where tokensmith cannot serve them. */
function keyFormat(key: XmlNode, ctx: ParseContext) {
  const algUri = attr(key, 'Algorithm') ?? attr(key, 'KeyAlgorithm') ?? attr(key, 'SecretAlgorithm') ?? '';
  const alg = algorithmName(algUri);
  if (alg === 'pin') return 'pin';
  if (alg !== 'hotp' && alg !== 'totp') {
    throw new DataError(
      `algorithm '${algUri || '(none)'}' cannot be served by tokensmith (it serves HOTP and TOTP only): remove this key package or import the file elsewhere`,
      { code: 'unsupported-algorithm' },
    );
  }
  const params = child(key, 'AlgorithmParameters');
  const response = child(params, 'ResponseFormat') ?? path(key, 'Usage', 'ResponseFormat');
  const encoding = attr(response, 'Encoding') ?? attr(response, 'format');
  if (encoding && encoding.toUpperCase() !== 'DECIMAL') {
    throw new DataError(`response encoding ${encoding} cannot be served (tokensmith shows decimal codes)`, {
      code: 'unsupported-algorithm',
    });
  }
  const suite = textOf(child(params, 'Suite'));
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
  const pinMode = attr(child(policy, 'PINPolicy'), 'PINUsageMode');
  if (pinMode && pinMode.toLowerCase() !== 'local') {
    throw new DataError(`the key needs a server-side PIN (PINUsageMode ${pinMode}), which tokensmith cannot enforce`, {
      code: 'unsupported-policy',
    });
  }
  checkPolicy(policy, new Date(), { allowExpired: ctx.allowExpired });
  return { alg, suite, algorithm: hashOfSuite(suite), digits, checkDigit } as const;
}

/** The key's values: the secret, and the counter, T0, time step and drift where given (decrypted where encrypted). */
function keyValues(key: XmlNode, dec: PskcDecryptor, where: string) {
  const data = childrenNamed(key, 'Data');
  const secretData = dataOf(data, 'Secret', 'SECRET');
  const secretValue = readValue(secretData.node, dec, where, secretData.legacy, true);
  if (secretValue === undefined) throw new DataError('the key has no secret (Data/Secret)', { code: 'missing-secret' });
  const seed = typeof secretValue === 'string' ? decodeBase64(secretValue, 'the secret') : secretValue;
  const cd = dataOf(data, 'Counter', 'COUNTER');
  const td = dataOf(data, 'Time', 'TIME');
  const id = dataOf(data, 'TimeInterval', 'TIME_INTERVAL');
  return {
    seed,
    counter: counterOf(readValue(cd.node, dec, where, cd.legacy)),
    time: readInteger(td.node, dec, where, 'Time', td.legacy),
    interval: readInteger(id.node, dec, where, 'TimeInterval', id.legacy),
    drift: readDrift(dataOf(data, 'TimeDrift', 'TIME_DRIFT'), dec, where),
  };
}

function readKey(k: KeyFields, dec: PskcDecryptor, where: string, ctx: ParseContext): SeedRecord | 'pin' {
  const key = k.node;
  const f = keyFormat(key, ctx);
  if (f === 'pin') return 'pin';
  const { alg } = f;
  const { seed, counter, time, interval, drift } = keyValues(key, dec, where);
  const keyId = attr(key, 'Id') ?? attr(key, 'KeyId') ?? attr(key, 'SecretId');
  const dev = k.device;
  const exact =
    alg === 'hotp' && counter !== undefined && counter > BigInt(Number.MAX_SAFE_INTEGER)
      ? counter.toString()
      : undefined;
  const record = buildRecord(
    {
      serial: textOf(child(dev, 'SerialNo')) ?? keyId,
      manufacturer: textOf(child(dev, 'Manufacturer')),
      model: textOf(child(dev, 'Model')),
      type: alg,
      algorithm: f.algorithm,
      digits: f.digits,
      period: alg === 'totp' ? (interval ?? 30) : 30,
      counter: alg === 'hotp' && counter !== undefined ? (exact ? Number.MAX_SAFE_INTEGER : Number(counter)) : 0,
      driftSteps: drift ?? 0,
      seed,
      attributes: keyAttributes(k, where, keyId, f.suite),
    },
    where,
  );
  // RFC 6238 T0 (PSKC <Time>) moves every step: kept with the token, used for its codes.
  if (alg === 'totp' && time) record.t0 = time;
  if (f.checkDigit) record.checkDigit = true;
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
