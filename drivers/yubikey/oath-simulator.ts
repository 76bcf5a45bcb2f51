/**
 * A YubiKey's OATH application in software: the credentials, the access
 * password (PBKDF2 key, challenge-response VALIDATE, 6982 until validated),
 * LIST, CALCULATE and CALCULATE ALL with truncation, and SEND REMAINING when
 * an answer is longer than one frame. Any other application's SELECT (ykman
 * tries management, OTP, PIV ...) answers 6A82, so ykman falls back.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { encodeBase32 } from '../../src/core/codecs.js';
import {
  INS,
  OATH_AID,
  PROPERTY_REQUIRE_TOUCH,
  SW,
  TAG,
  concatBytes,
  dynamicTruncation,
  encodeTlv,
  hmacSha1,
  parseTlvs,
  parseTypeAlgorithm,
  typeAlgorithmByte,
  type OathAlgorithm,
  type OathType,
  type Tlv,
} from './oath-protocol.js';

/** ATR of a YubiKey 5 NFC over CCID (the one ykman sees on USB). */
export const YUBIKEY_ATR = Uint8Array.from([
  0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69,
  0x4b, 0x65, 0x79, 0x40,
]);
export const DEFAULT_OATH_SERIAL = '16000001';
/** A YubiKey 5 holds 32 OATH credentials. */
export const OATH_CAPACITY = 32;
/** Answers longer than this go out in pieces, each ending 61xx. */
export const DEFAULT_FRAME_BYTES = 255;

interface StoredCredential {
  type: OathType;
  algorithm: OathAlgorithm;
  digits: number;
  key: Uint8Array;
  touch: boolean;
  counter: number;
}

export interface OathSimulatorOptions {
  serial: string;
  version?: [number, number, number];
  /** Smaller frames make SEND REMAINING happen sooner (tests). */
  frameBytes?: number;
  onChange?: (s: OathSimulatorState) => void;
}

export interface OathSimulatorState {
  serial: string;
  version: string;
  deviceId: string;
  passwordSet: boolean;
  lastCommand: string | null;
  lastStatus: string | null;
  /** The last credential written, and whether a host can read its code back (TOTP without touch). */
  lastPut: { name: string; calculable: boolean } | null;
  credentials: {
    name: string;
    type: OathType;
    algorithm: OathAlgorithm;
    digits: number;
    touch: boolean;
    counter: number;
    keyBase32: string;
  }[];
}

const COMMAND_NAMES: Record<number, string> = {
  [INS.put]: 'put',
  [INS.delete]: 'delete',
  [INS.setCode]: 'setCode',
  [INS.reset]: 'reset',
  [INS.rename]: 'rename',
  [INS.list]: 'list',
  [INS.calculate]: 'calculate',
  [INS.validate]: 'validate',
  [INS.sendRemaining]: 'sendRemaining',
};

const sw = (word: number): Uint8Array => Uint8Array.from([word >> 8, word & 0xff]);
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b);

export class OathSimulator {
  readonly atr = YUBIKEY_ATR;
  private readonly version: [number, number, number];
  private readonly frameBytes: number;
  private salt: Uint8Array;
  private accessKey: Uint8Array | null = null;
  private validated = false;
  private cardChallenge: Uint8Array | null = null;
  private selected = false;
  private pending: Uint8Array | null = null;
  private readonly credentials = new Map<string, StoredCredential>();
  private lastCommand: string | null = null;
  private lastStatus: string | null = null;
  private lastPut: { name: string; calculable: boolean } | null = null;

  constructor(private readonly opts: OathSimulatorOptions) {
    this.version = opts.version ?? [5, 4, 3];
    this.frameBytes = opts.frameBytes ?? DEFAULT_FRAME_BYTES;
    // The same serial gives the same device id on every run: a store can find the key again.
    this.salt = new Uint8Array(createHash('sha256').update(`yubikey-oath:${opts.serial}`).digest().subarray(0, 8));
  }

  /** Power cycle: nothing selected, nothing validated. */
  reset(): void {
    this.selected = false;
    this.validated = false;
    this.pending = null;
  }

  state(): OathSimulatorState {
    return {
      serial: this.opts.serial,
      version: this.version.join('.'),
      deviceId: Buffer.from(this.salt).toString('hex'),
      passwordSet: this.accessKey !== null,
      lastCommand: this.lastCommand,
      lastStatus: this.lastStatus,
      lastPut: this.lastPut,
      credentials: [...this.credentials].map(([name, c]) => ({
        name,
        type: c.type,
        algorithm: c.algorithm,
        digits: c.digits,
        touch: c.touch,
        counter: c.counter,
        keyBase32: encodeBase32(c.key),
      })),
    };
  }

  /** Sets the access password as SET CODE would (a test or `simulate` starting with a protected key). */
  setAccessKey(key: Uint8Array | null): void {
    this.accessKey = key ? Uint8Array.from(key) : null;
  }

  get deviceSalt(): Uint8Array {
    return Uint8Array.from(this.salt);
  }

  process(apdu: Uint8Array): Uint8Array {
    const answer = this.dispatch(apdu);
    this.lastStatus = Buffer.from(answer.subarray(-2)).toString('hex').toUpperCase();
    this.opts.onChange?.(this.state());
    return answer;
  }

  private dispatch(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return sw(SW.wrongLength);
    const [cla, ins, p1, p2] = [apdu[0]!, apdu[1]!, apdu[2]!, apdu[3]!];
    const data = apdu.length > 5 ? apdu.subarray(5, 5 + apdu[4]!) : new Uint8Array();
    if (apdu.length > 5 && data.length !== apdu[4]) return sw(SW.wrongLength);
    if (cla !== 0x00) return sw(0x6e00);
    if (ins === 0xa4 && p1 === 0x04) return this.select(data);
    this.lastCommand = ins === INS.calculateAll ? 'calculateAll' : (COMMAND_NAMES[ins] ?? `ins-${ins.toString(16)}`);
    if (!this.selected) return sw(SW.insNotSupported);
    if (ins === INS.sendRemaining) return this.sendRemaining();
    this.pending = null;
    if (ins === INS.reset) return p1 === 0xde && p2 === 0xad ? this.factoryReset() : sw(0x6a86);
    if (ins === INS.validate) return this.validate(data);
    if (this.accessKey && !this.validated) return sw(SW.authRequired);
    let tlvs: Tlv[];
    try {
      tlvs = parseTlvs(data, ins === INS.put ? [TAG.property] : []);
    } catch {
      return sw(SW.wrongData);
    }
    switch (ins) {
      case INS.put:
        return this.put(tlvs);
      case INS.delete:
        return this.remove(tlvs);
      case INS.rename:
        return this.rename(tlvs);
      case INS.list:
        return this.answer(
          concatBytes(
            ...[...this.credentials].map(([name, c]) =>
              encodeTlv(
                TAG.nameListEntry,
                Uint8Array.from([typeAlgorithmByte(c.type, c.algorithm), ...Buffer.from(name, 'utf8')]),
              ),
            ),
          ),
        );
      case INS.calculate:
        return this.calculate(tlvs, p2 === 0x01);
      case INS.calculateAll:
        return p1 === 0x00 ? this.calculateAll(tlvs, p2 === 0x01) : sw(0x6a86);
      case INS.setCode:
        return this.setCode(tlvs);
      default:
        return sw(SW.insNotSupported);
    }
  }

  private select(aid: Uint8Array): Uint8Array {
    this.lastCommand = 'select';
    if (
      aid.length < 5 ||
      !same(
        aid.subarray(0, Math.min(aid.length, OATH_AID.length)),
        OATH_AID.subarray(0, Math.min(aid.length, OATH_AID.length)),
      )
    ) {
      this.selected = false;
      return sw(SW.noSuchObject);
    }
    this.selected = true;
    this.validated = false;
    this.pending = null;
    const parts = [encodeTlv(TAG.version, Uint8Array.from(this.version)), encodeTlv(TAG.name, this.salt)];
    if (this.accessKey) {
      this.cardChallenge = new Uint8Array(randomBytes(8));
      parts.push(encodeTlv(TAG.challenge, this.cardChallenge), encodeTlv(TAG.algorithm, Uint8Array.from([0x01])));
    }
    return this.answer(concatBytes(...parts));
  }

  /** Sends `data` in frames of at most frameBytes; the rest waits for SEND REMAINING. */
  private answer(data: Uint8Array): Uint8Array {
    if (data.length <= this.frameBytes) {
      this.pending = null;
      return concatBytes(data, sw(SW.ok));
    }
    this.pending = data.subarray(this.frameBytes);
    return concatBytes(
      data.subarray(0, this.frameBytes),
      Uint8Array.from([0x61, Math.min(this.pending.length, 0xff) & 0xff]),
    );
  }

  private sendRemaining(): Uint8Array {
    if (!this.pending) return sw(SW.noRemaining);
    return this.answer(this.pending);
  }

  private factoryReset(): Uint8Array {
    this.credentials.clear();
    this.accessKey = null;
    this.validated = false;
    this.salt = new Uint8Array(randomBytes(8));
    return sw(SW.ok);
  }

  private validate(data: Uint8Array): Uint8Array {
    if (!this.accessKey || !this.cardChallenge) return sw(SW.authRequired);
    let tlvs: Tlv[];
    try {
      tlvs = parseTlvs(data);
    } catch {
      return sw(SW.wrongData);
    }
    const response = tlvs.find((t) => t.tag === TAG.response)?.value;
    const hostChallenge = tlvs.find((t) => t.tag === TAG.challenge)?.value;
    if (!response || !hostChallenge) return sw(SW.wrongData);
    const expected = hmacSha1(this.accessKey, this.cardChallenge);
    // One answer per challenge: a wrong one needs a new SELECT (and a new challenge).
    this.cardChallenge = null;
    if (!same(response, expected)) return sw(SW.wrongResponse);
    this.validated = true;
    return this.answer(encodeTlv(TAG.response, hmacSha1(this.accessKey, hostChallenge)));
  }

  private setCode(tlvs: Tlv[]): Uint8Array {
    const key = tlvs.find((t) => t.tag === TAG.key)?.value;
    if (!key) return sw(SW.wrongData);
    if (key.length === 0) {
      this.accessKey = null;
      return sw(SW.ok);
    }
    const challenge = tlvs.find((t) => t.tag === TAG.challenge)?.value;
    const response = tlvs.find((t) => t.tag === TAG.response)?.value;
    const newKey = key.subarray(1);
    if (
      parseTypeAlgorithm(key[0]!)?.algorithm !== 'sha1' ||
      newKey.length !== 16 ||
      !challenge ||
      !response ||
      !same(response, hmacSha1(newKey, challenge))
    )
      return sw(SW.wrongData);
    this.accessKey = Uint8Array.from(newKey);
    this.validated = false;
    return sw(SW.ok);
  }

  private put(tlvs: Tlv[]): Uint8Array {
    const name = tlvs.find((t) => t.tag === TAG.name)?.value;
    const key = tlvs.find((t) => t.tag === TAG.key)?.value;
    if (!name || name.length === 0 || name.length > 64 || !key || key.length < 3) return sw(SW.wrongData);
    const ta = parseTypeAlgorithm(key[0]!);
    const digits = key[1]!;
    if (!ta || digits < 6 || digits > 8) return sw(SW.wrongData);
    const nameText = Buffer.from(name).toString('utf8');
    if (!this.credentials.has(nameText) && this.credentials.size >= OATH_CAPACITY) return sw(SW.noSpace);
    const property = tlvs.find((t) => t.tag === TAG.property)?.value[0] ?? 0;
    const imf = tlvs.find((t) => t.tag === TAG.imf)?.value;
    const counter = imf && imf.length === 4 ? new DataView(imf.buffer, imf.byteOffset, 4).getUint32(0) : 0;
    const touch = (property & PROPERTY_REQUIRE_TOUCH) !== 0;
    this.credentials.set(nameText, { ...ta, digits, key: Uint8Array.from(key.subarray(2)), touch, counter });
    this.lastPut = { name: nameText, calculable: ta.type === 'totp' && !touch };
    return sw(SW.ok);
  }

  private remove(tlvs: Tlv[]): Uint8Array {
    const name = tlvs.find((t) => t.tag === TAG.name)?.value;
    if (!name) return sw(SW.wrongData);
    return this.credentials.delete(Buffer.from(name).toString('utf8')) ? sw(SW.ok) : sw(SW.noSuchObject);
  }

  private rename(tlvs: Tlv[]): Uint8Array {
    const [from, to] = tlvs.filter((t) => t.tag === TAG.name).map((t) => Buffer.from(t.value).toString('utf8'));
    const cred = from === undefined ? undefined : this.credentials.get(from);
    if (!cred || !to) return sw(cred ? SW.wrongData : SW.noSuchObject);
    if (this.credentials.has(to)) return sw(SW.wrongData);
    this.credentials.delete(from!);
    this.credentials.set(to, cred);
    return sw(SW.ok);
  }

  /** The answer for one credential: HOTP takes (and advances) its own counter, TOTP the host's challenge. */
  private codeFor(c: StoredCredential, challenge: Uint8Array, truncate: boolean): Uint8Array {
    let message = challenge;
    if (c.type === 'hotp') {
      message = new Uint8Array(8);
      new DataView(message.buffer).setBigUint64(0, BigInt(c.counter++));
    }
    const mac = new Uint8Array(createHmac(c.algorithm, c.key).update(message).digest());
    return truncate
      ? encodeTlv(TAG.truncated, Uint8Array.from([c.digits, ...dynamicTruncation(mac)]))
      : encodeTlv(TAG.response, Uint8Array.from([c.digits, ...mac]));
  }

  private calculate(tlvs: Tlv[], truncate: boolean): Uint8Array {
    const name = tlvs.find((t) => t.tag === TAG.name)?.value;
    const challenge = tlvs.find((t) => t.tag === TAG.challenge)?.value ?? new Uint8Array();
    if (!name) return sw(SW.wrongData);
    const cred = this.credentials.get(Buffer.from(name).toString('utf8'));
    if (!cred) return sw(SW.noSuchObject);
    // The simulated key is touched at once: a touch credential answers like any other.
    return this.answer(this.codeFor(cred, challenge, truncate));
  }

  private calculateAll(tlvs: Tlv[], truncate: boolean): Uint8Array {
    const challenge = tlvs.find((t) => t.tag === TAG.challenge)?.value;
    if (!challenge) return sw(SW.wrongData);
    const parts = [...this.credentials].flatMap(([name, c]) => {
      const nameTlv = encodeTlv(TAG.name, new Uint8Array(Buffer.from(name, 'utf8')));
      if (c.type === 'hotp') return [nameTlv, encodeTlv(TAG.hotp, Uint8Array.from([c.digits]))];
      if (c.touch) return [nameTlv, encodeTlv(TAG.touch, Uint8Array.from([c.digits]))];
      return [nameTlv, this.codeFor(c, challenge, truncate)];
    });
    return this.answer(concatBytes(...parts));
  }
}
