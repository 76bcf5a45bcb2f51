/**
 * An in-memory YubiKey OTP application: two slots, access codes, the
 * programming sequence and touch-level status, reached through HID feature
 * reports (sendFeatureReport / getFeatureReport, like a node-hid device) and
 * through CCID APDUs (so it can sit behind vpcd, where ykman talks to it).
 * Frames whose CRC does not check are dropped, as the key drops them.
 */
import { createHmac } from 'node:crypto';
import {
  ACCESS_CODE_SIZE,
  CFGSTATE,
  CONFIG_SIZE,
  SLOT_CMD,
  crc16,
  crcResidueOk,
  decodeSlotConfig,
  encodeStatus,
  hotpOfConfig,
  isEmptyConfig,
  type SlotConfig,
} from './protocol.js';
import {
  FRAME_SIZE,
  INS_CONFIG,
  OTP_AID,
  REPORT_DATA_SIZE,
  REPORT_SIZE,
  RESP_PENDING_FLAG,
  SLOT_WRITE_FLAG,
  readHidFrame,
} from './framing.js';

/** A YubiKey 5's USB CCID answer to reset ("YubiKey" in the historical bytes; byte 1's high nibble F marks USB for ykman). */
export const YUBIKEY_ATR = Uint8Array.from(Buffer.from('3BFD1300008131FE158073C021C057597562694B657940', 'hex'));
export const DEFAULT_YUBIKEY_SERIAL = '12345678';

export interface YubiOtpSlotState {
  configured: boolean;
  hotp: boolean;
  digits: 6 | 8 | null;
  /** The next moving factor the slot will use. */
  counter: number | null;
  /** The key as stored (hex): the simulator's state file is a test fixture, never a production log. */
  keyHex: string | null;
  tokenIdHex: string | null;
  accessCodeSet: boolean;
}

export interface YubiOtpSimulatorState {
  serial: string;
  version: string;
  sequence: number;
  slots: [YubiOtpSlotState, YubiOtpSlotState];
  writes: number;
  rejected: number;
  frameErrors: number;
}

export interface YubiOtpSimulatorOptions {
  serial?: string;
  version?: [number, number, number];
  onChange?: (state: YubiOtpSimulatorState, what: 'status' | 'write' | 'serial' | 'rejected') => void;
}

interface Slot {
  config: SlotConfig | null;
  presses: number;
}

/** RFC 4226: HMAC-SHA1 of the 8-byte counter, dynamic truncation, modulo 10^digits. */
function hotp(key: Uint8Array, counter: number, digits: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[19]! & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

export class YubiOtpSimulator {
  readonly atr = YUBIKEY_ATR;
  private readonly serial: string;
  private readonly version: [number, number, number];
  private readonly slots: [Slot, Slot] = [
    { config: null, presses: 0 },
    { config: null, presses: 0 },
  ];
  private sequence = 0;
  private writes = 0;
  private rejected = 0;
  private frameErrors = 0;
  // HID side: the frame being written, and the response chunks not yet read.
  private incoming = new Uint8Array(FRAME_SIZE);
  private pending: Uint8Array[] | null = null;
  private pendingIndex = 0;
  private otpSelected = false;

  constructor(private readonly opts: YubiOtpSimulatorOptions = {}) {
    this.serial = opts.serial ?? DEFAULT_YUBIKEY_SERIAL;
    this.version = opts.version ?? [5, 4, 3];
  }

  /** The 6 status bytes: version, programming sequence, touch level. */
  status(): Uint8Array {
    let touch = 0;
    this.slots.forEach((s, i) => {
      if (!s.config) return;
      touch |= i === 0 ? CFGSTATE.SLOT1_VALID : CFGSTATE.SLOT2_VALID;
      if (hotpOfConfig(s.config)) touch |= i === 0 ? CFGSTATE.SLOT1_TOUCH : CFGSTATE.SLOT2_TOUCH;
    });
    return encodeStatus({ version: this.version, sequence: this.sequence, touchLevel: touch });
  }

  /** A touch on a HOTP slot: what the key types (token id, if any, then the code); the counter moves on. */
  press(slot: 1 | 2): string {
    const s = this.slots[slot - 1]!;
    const h = s.config && hotpOfConfig(s.config);
    if (!s.config || !h) throw new Error(`slot ${slot} holds no OATH-HOTP credential`);
    const code = hotp(h.key, h.counter + s.presses, h.digits);
    s.presses++;
    return Buffer.from(s.config.fixed.subarray(0, s.config.fixedLength)).toString('hex') + code;
  }

  /** Runs one slot command; returns the answer data (status bytes for a write), or null when the key rejects it. */
  command(slotCommand: number, payload: Uint8Array): Uint8Array | null {
    if (slotCommand === SLOT_CMD.DEVICE_SERIAL) {
      this.notify('serial');
      const n = Number(this.serial);
      return Uint8Array.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    }
    if (slotCommand === SLOT_CMD.CONFIG_1 || slotCommand === SLOT_CMD.CONFIG_2)
      return this.writeConfig(slotCommand === SLOT_CMD.CONFIG_1 ? 0 : 1, payload);
    this.rejected++;
    this.notify('rejected');
    return null;
  }

  private writeConfig(index: 0 | 1, payload: Uint8Array): Uint8Array | null {
    const slot = this.slots[index]!;
    const record = payload.subarray(0, CONFIG_SIZE);
    const given = payload.subarray(CONFIG_SIZE, CONFIG_SIZE + ACCESS_CODE_SIZE);
    const held = slot.config?.accessCode;
    const accessOk =
      !held ||
      held.every((b) => b === 0) ||
      (given.length === ACCESS_CODE_SIZE && held.every((b, i) => b === given[i]));
    const empty = isEmptyConfig(record);
    if (!accessOk || record.length !== CONFIG_SIZE || (!empty && !crcResidueOk(record))) {
      // Rejected: nothing changes, so the sequence does not move and the host knows.
      this.rejected++;
      this.notify('rejected');
      return this.status();
    }
    slot.config = empty ? null : decodeSlotConfig(record);
    slot.presses = 0;
    this.writes++;
    // With no slot configured the sequence starts again at 0 (yubikit/core/otp.py notes the same).
    this.sequence = this.slots.some((s) => s.config) ? (this.sequence + 1) & 0xff : 0;
    this.notify('write');
    return this.status();
  }

  // ---- HID feature reports ----

  /** The host writes one 8-byte report: a chunk of a frame (byte 7 = 0x80 | place), or a reset. */
  sendFeatureReport(report: Uint8Array): void {
    if (report.length !== REPORT_SIZE) throw new Error(`a feature report is ${REPORT_SIZE} bytes`);
    const flag = report[7]!;
    if ((flag & SLOT_WRITE_FLAG) === 0 || flag === 0xff || flag === 0x8f) {
      // A reset (or dummy) report ends any response being read.
      this.pending = null;
      return;
    }
    const seq = flag & 0x7f;
    if (seq === 0) this.incoming = new Uint8Array(FRAME_SIZE); // the host skips all-zero chunks: start clean
    if (seq * REPORT_DATA_SIZE >= FRAME_SIZE) return;
    this.incoming.set(report.subarray(0, REPORT_DATA_SIZE), seq * REPORT_DATA_SIZE);
    if (seq === FRAME_SIZE / REPORT_DATA_SIZE - 1) this.frameComplete();
  }

  private frameComplete(): void {
    let frame: { slotCommand: number; payload: Uint8Array };
    try {
      frame = readHidFrame(this.incoming);
    } catch {
      this.frameErrors++;
      this.notify('rejected');
      return;
    }
    const answer = this.command(frame.slotCommand, frame.payload);
    if (answer && frame.slotCommand === SLOT_CMD.DEVICE_SERIAL) this.pending = chunksWithCrc(answer);
    this.pendingIndex = 0;
  }

  /** The host reads one 8-byte report: the next response chunk while one is pending, else the status. */
  getFeatureReport(): Uint8Array {
    const out = new Uint8Array(REPORT_SIZE);
    if (this.pending) {
      const chunk = this.pending[this.pendingIndex];
      // After the last chunk the key shows sequence 0 again with the pending flag: the host knows the response is complete.
      if (chunk) out.set(chunk);
      out[7] = RESP_PENDING_FLAG | (chunk ? this.pendingIndex : 0);
      if (chunk) this.pendingIndex++;
      return out;
    }
    out.set(this.status(), 1);
    return out;
  }

  // ---- CCID ----

  /** One APDU: SELECT of the OTP AID answers the status; INS 01 runs the slot command in P1; every other application is absent. */
  process(apdu: Uint8Array): Uint8Array {
    const [, ins, p1] = apdu;
    if (ins === 0xa4 && p1 === 0x04) {
      const aid = apdu.subarray(5, 5 + (apdu[4] ?? 0));
      this.otpSelected = aid.length === OTP_AID.length && aid.every((b, i) => b === OTP_AID[i]);
      return this.otpSelected ? withSw(this.status(), 0x9000) : withSw(new Uint8Array(0), 0x6a82);
    }
    if (!this.otpSelected) return withSw(new Uint8Array(0), 0x6d00);
    if (ins !== INS_CONFIG) return withSw(new Uint8Array(0), 0x6d00);
    const lc = apdu.length > 5 ? apdu[4]! : 0;
    const answer = this.command(p1!, apdu.subarray(5, 5 + lc));
    return answer ? withSw(answer, 0x9000) : withSw(new Uint8Array(0), 0x6a80);
  }

  reset(): void {
    this.otpSelected = false;
    this.pending = null;
  }

  state(): YubiOtpSimulatorState {
    const slots = this.slots.map((s): YubiOtpSlotState => {
      const h = s.config ? hotpOfConfig(s.config) : null;
      return {
        configured: !!s.config,
        hotp: !!h,
        digits: h?.digits ?? null,
        counter: h ? h.counter + s.presses : null,
        keyHex: h ? Buffer.from(h.key).toString('hex') : null,
        tokenIdHex:
          s.config && s.config.fixedLength
            ? Buffer.from(s.config.fixed.subarray(0, s.config.fixedLength)).toString('hex')
            : null,
        accessCodeSet: !!s.config && s.config.accessCode.some((b) => b !== 0),
      };
    }) as [YubiOtpSlotState, YubiOtpSlotState];
    return {
      serial: this.serial,
      version: this.version.join('.'),
      sequence: this.sequence,
      slots,
      writes: this.writes,
      rejected: this.rejected,
      frameErrors: this.frameErrors,
    };
  }

  private notify(what: 'status' | 'write' | 'serial' | 'rejected'): void {
    this.opts.onChange?.(this.state(), what);
  }
}

function withSw(data: Uint8Array, sw: number): Uint8Array {
  return Uint8Array.from([...data, sw >>> 8, sw & 0xff]);
}

/** A HID response: the data, then the complement of its CRC (little-endian) so the host's residue check passes, in chunks of 7. */
function chunksWithCrc(data: Uint8Array): Uint8Array[] {
  const inv = ~crc16(data) & 0xffff;
  const all = Uint8Array.from([...data, inv & 0xff, inv >>> 8]);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += REPORT_DATA_SIZE) chunks.push(all.slice(i, i + REPORT_DATA_SIZE));
  return chunks;
}
