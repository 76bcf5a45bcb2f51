/**
 * How a slot command reaches the OTP application: over the USB HID keyboard
 * interface as 8-byte feature reports, or over CCID as an APDU to the OTP
 * AID. Constants read from yubikit/core/otp.py (FEATURE_RPT_SIZE,
 * SLOT_DATA_SIZE, FRAME_SIZE, SLOT_WRITE_FLAG, RESP_PENDING_FLAG,
 * RESP_TIMEOUT_WAIT_FLAG, SEQUENCE_MASK) and yubikit/yubiotp.py (INS_CONFIG);
 * the code is our own.
 */
import { crc16, OtpFrameError } from './protocol.js';

export const REPORT_SIZE = 8;
export const REPORT_DATA_SIZE = 7;
/** A HID frame's payload is always padded to 64 bytes. */
export const SLOT_DATA_SIZE = 64;
/** payload 64 + slot 1 + CRC 2 + 3 filler bytes = 10 reports of 7. */
export const FRAME_SIZE = 70;
export const REPORTS_PER_FRAME = FRAME_SIZE / REPORT_DATA_SIZE;

/** Byte 7 of a report the host writes: this flag and the report's place in the frame (0..9). */
export const SLOT_WRITE_FLAG = 0x80;
/** Byte 7 of a report the key answers: a response chunk follows (low 5 bits: its sequence). */
export const RESP_PENDING_FLAG = 0x40;
/** Byte 7: the key waits for a touch. */
export const RESP_TIMEOUT_WAIT_FLAG = 0x20;
export const SEQUENCE_MASK = 0x1f;
/** The report that tells the key the host has read a response (7 zeros, then FF). */
export const RESET_REPORT = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0xff]);

/** The OTP application over CCID. yubikit/core AID.OTP. */
export const OTP_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x05, 0x27, 0x20, 0x01]);
/** yubikit/yubiotp.py INS_CONFIG: P1 carries the slot command. */
export const INS_CONFIG = 0x01;

/** The 70-byte HID frame: payload padded to 64, the slot command, CRC-16 of the payload (little-endian), 3 zeros. */
export function hidFrame(slotCommand: number, payload: Uint8Array): Uint8Array {
  if (payload.length > SLOT_DATA_SIZE)
    throw new OtpFrameError(`a HID frame carries at most ${SLOT_DATA_SIZE} bytes, not ${payload.length}`);
  const frame = new Uint8Array(FRAME_SIZE);
  frame.set(payload);
  const crc = crc16(frame.subarray(0, SLOT_DATA_SIZE));
  frame[64] = slotCommand;
  frame[65] = crc & 0xff;
  frame[66] = crc >>> 8;
  return frame;
}

/** Checks a received frame: its CRC over the 64-byte payload. Returns the slot command and payload. */
export function readHidFrame(frame: Uint8Array): { slotCommand: number; payload: Uint8Array } {
  if (frame.length !== FRAME_SIZE) throw new OtpFrameError(`a HID frame is ${FRAME_SIZE} bytes, not ${frame.length}`);
  const payload = frame.slice(0, SLOT_DATA_SIZE);
  if (crc16(payload) !== (frame[65]! | (frame[66]! << 8))) throw new OtpFrameError('HID frame CRC does not check');
  return { slotCommand: frame[64]!, payload };
}

/** The reports the host writes for a frame: all-zero chunks are skipped, except the first and the last. */
export function frameReports(frame: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let seq = 0; seq < REPORTS_PER_FRAME; seq++) {
    const chunk = frame.subarray(seq * REPORT_DATA_SIZE, (seq + 1) * REPORT_DATA_SIZE);
    if (seq !== 0 && seq !== REPORTS_PER_FRAME - 1 && chunk.every((b) => b === 0)) continue;
    const report = new Uint8Array(REPORT_SIZE);
    report.set(chunk);
    report[7] = SLOT_WRITE_FLAG | seq;
    out.push(report);
  }
  return out;
}

/** A status report's 6 status bytes (bytes 1..6). */
export const statusOfReport = (report: Uint8Array): Uint8Array => report.slice(1, 7);

/** The CCID command: CLA 00, INS 01, P1 = slot command, P2 00, Lc and the payload (no padding, no CRC). */
export function ccidConfigApdu(slotCommand: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([0x00, INS_CONFIG, slotCommand, 0x00, payload.length, ...payload]);
}

export function selectOtpApdu(): Uint8Array {
  return Uint8Array.from([0x00, 0xa4, 0x04, 0x00, OTP_AID.length, ...OTP_AID]);
}
