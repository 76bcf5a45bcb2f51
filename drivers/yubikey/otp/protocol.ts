/**
 * The YubiKey OTP application's slot configuration: the 52-byte config
 * record, its flags for OATH-HOTP, the CRC-16 the key checks, the slot
 * commands and the 6 status bytes. Constants were read from yubikey-manager
 * (yubikit/yubiotp.py: CONFIG_SLOT, TKTFLAG, CFGFLAG, EXTFLAG, the *_SIZE
 * values; yubikit/core/otp.py: CRC_OK_RESIDUAL) and ykpers' ykdef.h; the code
 * is our own. Layout tables: docs/protocols/yubikey-otp.md.
 */

/** Slot commands (the "slot" byte of a HID frame, P1 of the CCID INS 01). yubikit/yubiotp.py CONFIG_SLOT. */
export const SLOT_CMD = {
  CONFIG_1: 0x01,
  CONFIG_2: 0x03,
  UPDATE_1: 0x04,
  UPDATE_2: 0x05,
  SWAP: 0x06,
  DEVICE_SERIAL: 0x10,
} as const;

/** Ticket flags (yubikit TKTFLAG): OATH_HOTP selects HOTP mode, APPEND_CR sends Enter after the code. */
export const TKT = { APPEND_CR: 0x20, OATH_HOTP: 0x40, PROTECT_CFG2: 0x80 } as const;
/** Config flags (yubikit CFGFLAG): in HOTP mode 0x02 means 8 digits, 0x10 / 0x40 send the token id's first 1 / 2 bytes as modhex. */
export const CFG = {
  OATH_HOTP8: 0x02,
  OATH_FIXED_MODHEX1: 0x10,
  OATH_FIXED_MODHEX2: 0x40,
  OATH_FIXED_MODHEX: 0x50,
} as const;
/** Extended flags (yubikit EXTFLAG): serial readable over the API, later updates allowed, fast trigger. */
export const EXT = { SERIAL_API_VISIBLE: 0x04, FAST_TRIG: 0x10, ALLOW_UPDATE: 0x20 } as const;

export const FIXED_SIZE = 16;
export const UID_SIZE = 6;
export const KEY_SIZE = 16;
export const ACCESS_CODE_SIZE = 6;
/** fixed 16 + uid 6 + key 16 + access code 6 + fixed length, ext, tkt, cfg + 2 RFU + CRC 2. */
export const CONFIG_SIZE = 52;
/** The largest HMAC-SHA1 key a slot holds: 16 bytes in key, 4 in uid. */
export const HOTP_KEY_MAX = 20;
/** The initial moving factor is stored divided by 16 in a 16-bit field. */
export const IMF_MAX = 0xffff0;

/** A CRC over data that ends with its own (complemented, little-endian) CRC leaves this residue. yubikit/core/otp.py CRC_OK_RESIDUAL. */
export const CRC_OK_RESIDUAL = 0xf0b8;

export class OtpFrameError extends Error {}

/** CRC-16 of ISO/IEC 13239 (reflected polynomial 0x8408, start 0xFFFF, no final XOR), as the YubiKey computes it. */
export function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  return crc & 0xffff;
}

export const crcResidueOk = (data: Uint8Array): boolean => crc16(data) === CRC_OK_RESIDUAL;

export interface HotpSlotSettings {
  /** The HMAC-SHA1 key, at most 20 bytes. */
  seed: Uint8Array;
  digits: 6 | 8;
  /** Initial moving factor: a multiple of 16, 0..1048560. */
  counter: number;
  /** OATH token identifier sent before the code (up to 16 bytes); none when absent. */
  tokenId?: Uint8Array;
  /** Which leading token-id bytes the key types as modhex (OMP+TT: 2, OMP: 1, all: 'all'). */
  tokenIdModhex?: 0 | 1 | 2 | 'all';
  /** Send Enter after the code (ykman's default). */
  appendCr?: boolean;
  /** The access code the slot will demand from now on (6 bytes); none when absent. */
  newAccessCode?: Uint8Array;
}

export interface SlotConfig {
  fixed: Uint8Array;
  uid: Uint8Array;
  key: Uint8Array;
  accessCode: Uint8Array;
  fixedLength: number;
  ext: number;
  tkt: number;
  cfg: number;
}

/** Checks what the key cannot store; the messages name the option at fault. */
export function checkHotpSettings(s: HotpSlotSettings): void {
  if (s.seed.length === 0 || s.seed.length > HOTP_KEY_MAX)
    throw new OtpFrameError(
      `a YubiKey OTP slot holds an HMAC-SHA1 key of 1 to ${HOTP_KEY_MAX} bytes, not ${s.seed.length}`,
    );
  if (!Number.isInteger(s.counter) || s.counter < 0 || s.counter > IMF_MAX || s.counter % 16 !== 0)
    throw new OtpFrameError(
      `--counter: the initial moving factor must be a multiple of 16 from 0 to ${IMF_MAX}, not ${s.counter}`,
    );
  if (s.tokenId && s.tokenId.length > FIXED_SIZE) throw new OtpFrameError(`--token-id: at most ${FIXED_SIZE} bytes`);
  if (s.newAccessCode && s.newAccessCode.length !== ACCESS_CODE_SIZE)
    throw new OtpFrameError(`an access code is ${ACCESS_CODE_SIZE} bytes`);
}

function modhexFlags(mode: HotpSlotSettings['tokenIdModhex']): number {
  if (mode === 'all') return CFG.OATH_FIXED_MODHEX;
  if (mode === 1) return CFG.OATH_FIXED_MODHEX1;
  if (mode === 2) return CFG.OATH_FIXED_MODHEX2;
  return 0;
}

/** The slot configuration of an OATH-HOTP credential, the way ykman's `otp hotp` lays it out. */
export function hotpSlotConfig(s: HotpSlotSettings): SlotConfig {
  checkHotpSettings(s);
  const padded = new Uint8Array(HOTP_KEY_MAX);
  padded.set(s.seed);
  const uid = new Uint8Array(UID_SIZE);
  // Key bytes 16..19 go in uid[0..3]; uid[4..5] hold IMF / 16, big-endian (ykpers does the same).
  uid.set(padded.subarray(KEY_SIZE, HOTP_KEY_MAX));
  uid[4] = (s.counter >>> 12) & 0xff;
  uid[5] = (s.counter >>> 4) & 0xff;
  const tokenId = s.tokenId ?? new Uint8Array(0);
  const fixed = new Uint8Array(FIXED_SIZE);
  fixed.set(tokenId);
  return {
    fixed,
    uid,
    key: padded.slice(0, KEY_SIZE),
    accessCode: s.newAccessCode ?? new Uint8Array(ACCESS_CODE_SIZE),
    fixedLength: tokenId.length,
    ext: EXT.SERIAL_API_VISIBLE | EXT.ALLOW_UPDATE | EXT.FAST_TRIG,
    tkt: TKT.OATH_HOTP | (s.appendCr === false ? 0 : TKT.APPEND_CR),
    cfg: (s.digits === 8 ? CFG.OATH_HOTP8 : 0) | (tokenId.length ? modhexFlags(s.tokenIdModhex ?? 2) : 0),
  };
}

/** The 52 bytes: fields, two RFU zeros, then the complement of the CRC of the first 50, little-endian. */
export function encodeSlotConfig(c: SlotConfig): Uint8Array {
  const out = new Uint8Array(CONFIG_SIZE);
  out.set(c.fixed, 0);
  out.set(c.uid, 16);
  out.set(c.key, 22);
  out.set(c.accessCode, 38);
  out.set([c.fixedLength, c.ext, c.tkt, c.cfg], 44);
  const crc = ~crc16(out.subarray(0, 50)) & 0xffff;
  out[50] = crc & 0xff;
  out[51] = crc >>> 8;
  return out;
}

/** Reads a 52-byte config record back; a record whose CRC residue is wrong is refused. */
export function decodeSlotConfig(b: Uint8Array): SlotConfig {
  if (b.length !== CONFIG_SIZE)
    throw new OtpFrameError(`a slot configuration is ${CONFIG_SIZE} bytes, not ${b.length}`);
  if (!crcResidueOk(b)) throw new OtpFrameError('slot configuration CRC does not check');
  return {
    fixed: b.slice(0, 16),
    uid: b.slice(16, 22),
    key: b.slice(22, 38),
    accessCode: b.slice(38, 44),
    fixedLength: b[44]!,
    ext: b[45]!,
    tkt: b[46]!,
    cfg: b[47]!,
  };
}

/** An all-zero record: what ykman writes to delete a slot. */
export const isEmptyConfig = (b: Uint8Array): boolean => b.length === CONFIG_SIZE && b.every((x) => x === 0);

/** A config write's payload: the new record, then the access code the slot has now (zeros for none). */
export function configWritePayload(config: Uint8Array, currentAccessCode?: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONFIG_SIZE + ACCESS_CODE_SIZE);
  out.set(config);
  if (currentAccessCode) out.set(currentAccessCode, CONFIG_SIZE);
  return out;
}

/** What a HOTP slot computes with: the 20-byte key, the digits and the initial moving factor. */
export function hotpOfConfig(c: SlotConfig): { key: Uint8Array; digits: 6 | 8; counter: number } | null {
  if ((c.tkt & TKT.OATH_HOTP) === 0 || (c.cfg & 0x20) !== 0) return null; // 0x20 with OATH_HOTP set is challenge-response, not HOTP
  const key = new Uint8Array(HOTP_KEY_MAX);
  key.set(c.key);
  key.set(c.uid.subarray(0, 4), KEY_SIZE);
  return { key, digits: c.cfg & CFG.OATH_HOTP8 ? 8 : 6, counter: ((c.uid[4]! << 8) | c.uid[5]!) << 4 };
}

/** Touch-level bits of the status (yubikit CFGSTATE): which slots hold a configuration, which trigger on touch. */
export const CFGSTATE = { SLOT1_VALID: 0x01, SLOT2_VALID: 0x02, SLOT1_TOUCH: 0x04, SLOT2_TOUCH: 0x08 } as const;

export interface OtpStatus {
  version: [number, number, number];
  /** Programming sequence: goes up by one on each accepted write (0 when no slot is configured). */
  sequence: number;
  touchLevel: number;
  slot1Configured: boolean;
  slot2Configured: boolean;
}

/** The 6 status bytes: firmware major, minor, patch, programming sequence, touch level (little-endian 16 bits). */
export function parseStatus(b: Uint8Array): OtpStatus {
  if (b.length < 6) throw new OtpFrameError(`the OTP status is 6 bytes, not ${b.length}`);
  const touchLevel = b[4]! | (b[5]! << 8);
  return {
    version: [b[0]!, b[1]!, b[2]!],
    sequence: b[3]!,
    touchLevel,
    slot1Configured: (touchLevel & CFGSTATE.SLOT1_VALID) !== 0,
    slot2Configured: (touchLevel & CFGSTATE.SLOT2_VALID) !== 0,
  };
}

export function encodeStatus(s: Pick<OtpStatus, 'version' | 'sequence' | 'touchLevel'>): Uint8Array {
  return Uint8Array.from([...s.version, s.sequence, s.touchLevel & 0xff, s.touchLevel >>> 8]);
}

/** The CONFIG command of a slot (1 or 2). */
export const configCommandOf = (slot: 1 | 2): number => (slot === 1 ? SLOT_CMD.CONFIG_1 : SLOT_CMD.CONFIG_2);
