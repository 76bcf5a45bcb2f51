/**
 * Protectimus Slim NFC (card) and Flex (key fob): the proprietary frame inside
 * the ISO-DEP I-block, as bytes, no I/O. Source: the SySS proxmark3 script
 * (advisory SYSS-2021-007, CVE-2021-32033); facts: docs/protocols/protectimus.md.
 *
 *   request  86 LEN DATA.. XOR     LEN = DATA + the XOR byte; XOR of DATA
 *   answer   AA LEN CMD .. CHK     LEN = CMD + payload + CHK
 *
 * The answer's last byte is taken to be the XOR of CMD and payload, the
 * request's rule (the source says only "probably a checksum"); it is checked.
 * There is no status word: PC/SC passes the I-block payload through as is.
 * The seed-write command is not public, so there is no builder for it.
 */
import { toHex } from '../../src/core/bytes.js';

export const REQUEST_HEAD = 0x86;
export const ANSWER_HEAD = 0xaa;
export const CMD = { info: 0x10, readCode: 0x42, setTime: 0x12 } as const;
export type ProtectimusCommand = keyof typeof CMD;

export const PROTECTIMUS_MODELS = ['protectimus-slim', 'protectimus-flex'] as const;
export type ProtectimusModel = (typeof PROTECTIMUS_MODELS)[number];
export function isProtectimusModel(s: string): s is ProtectimusModel {
  return (PROTECTIMUS_MODELS as readonly string[]).includes(s);
}

/** A malformed frame: wrong head, length or checksum. */
export class FrameError extends Error {}

export function xorOf(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

export function buildFrame(data: Uint8Array): Uint8Array {
  if (data.length < 1 || data.length > 254) throw new RangeError(`frame data of ${data.length} bytes`);
  return Uint8Array.from([REQUEST_HEAD, data.length + 1, ...data, xorOf(data)]);
}

/** Request -> its DATA, checking head, length and XOR. */
export function parseRequest(frame: Uint8Array): Uint8Array {
  if (frame.length < 3 || frame[0] !== REQUEST_HEAD)
    throw new FrameError(`request does not start with 86: ${hex(frame.subarray(0, 2))}`);
  if (frame[1] !== frame.length - 2)
    throw new FrameError(`request LEN is ${frame[1]}, the frame carries ${frame.length - 2} bytes after it`);
  const data = frame.subarray(2, frame.length - 1);
  if (xorOf(data) !== frame[frame.length - 1])
    throw new FrameError(`request XOR is ${hex(frame.subarray(-1))}, the data gives ${hex([xorOf(data)])}`);
  return Uint8Array.from(data);
}

export function buildAnswer(cmd: number, payload: Uint8Array): Uint8Array {
  const body = Uint8Array.from([cmd, ...payload]);
  return Uint8Array.from([ANSWER_HEAD, body.length + 1, ...body, xorOf(body)]);
}

export interface Answer {
  cmd: number;
  payload: Uint8Array;
}

/** Answer -> CMD and payload, checking head, LEN, the command echoed and the checksum. */
export function parseAnswer(frame: Uint8Array, expectCmd?: number): Answer {
  if (frame.length < 4 || frame[0] !== ANSWER_HEAD)
    throw new FrameError(`answer does not start with AA: ${hex(frame.subarray(0, 4))}${frame.length > 4 ? '..' : ''}`);
  if (frame[1] !== frame.length - 2)
    throw new FrameError(`answer LEN is ${frame[1]}, the frame carries ${frame.length - 2} bytes after it`);
  const body = frame.subarray(2, frame.length - 1);
  if (xorOf(body) !== frame[frame.length - 1])
    throw new FrameError(`answer checksum is ${hex(frame.subarray(-1))}, the bytes give ${hex([xorOf(body)])}`);
  if (expectCmd !== undefined && body[0] !== expectCmd)
    throw new FrameError(`answer is for command ${hex([body[0]!])}, not ${hex([expectCmd])}`);
  return { cmd: body[0]!, payload: Uint8Array.from(body.subarray(1)) };
}

// ---- commands ------------------------------------------------------------------

/** `86 02 10 10` */
export function buildInfo(): Uint8Array {
  return buildFrame(Uint8Array.from([CMD.info]));
}

/** `86 03 42 00 42` */
export function buildReadCode(): Uint8Array {
  return buildFrame(Uint8Array.from([CMD.readCode, 0x00]));
}

/** `86 0A 12 00 00 II QQQQQQQQ RR XOR`: II seconds per step, Q = floor(t / II), R = t mod II. */
export function buildSetTime(time: number, intervalSeconds: 30 | 60): Uint8Array {
  const q = Math.floor(time / intervalSeconds) >>> 0;
  const r = time % intervalSeconds;
  return buildFrame(
    Uint8Array.from([
      CMD.setTime,
      0x00,
      0x00,
      intervalSeconds,
      q >>> 24,
      (q >>> 16) & 0xff,
      (q >>> 8) & 0xff,
      q & 0xff,
      r,
    ]),
  );
}

export function parseSetTimeData(data: Uint8Array): { interval: number; time: number } | null {
  if (data.length !== 9 || data[0] !== CMD.setTime) return null;
  const interval = data[3]!;
  if (interval === 0) return null;
  const q = ((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) >>> 0;
  return { interval, time: q * interval + data[8]! };
}

export interface ProtectimusInfo {
  /** Hardware scheme (70 on the Slim NFC the advisory describes); printed as the hex digits, as the script does. */
  hardwareScheme: string;
  firmware: string;
  /** Whether a real-time clock is fitted. */
  rtc: boolean;
  /** The time step: 00 = 30 s, 10 = 60 s. */
  interval: 30 | 60 | null;
  intervalFlag: number;
}

/**
 * Info payload (after CMD 10), offsets from the script: [1] scheme, [2].[3]
 * firmware, [5] RTC flag, [7] interval flag; the other bytes are unknown.
 */
export const INFO_PAYLOAD_LENGTH = 9;
export function parseInfoPayload(p: Uint8Array): ProtectimusInfo {
  if (p.length < INFO_PAYLOAD_LENGTH)
    throw new FrameError(`info payload has ${p.length} bytes, expected ${INFO_PAYLOAD_LENGTH}`);
  const flag = p[7]!;
  return {
    hardwareScheme: hex([p[1]!]),
    firmware: `${hex([p[2]!])}.${hex([p[3]!])}`,
    rtc: p[5] === 0x01,
    interval: flag === 0x00 ? 30 : flag === 0x10 ? 60 : null,
    intervalFlag: flag,
  };
}

export function encodeInfoPayload(i: {
  hardwareScheme: number;
  firmwareMajor: number;
  firmwareMinor: number;
  rtc: boolean;
  interval: 30 | 60;
}): Uint8Array {
  return Uint8Array.from([
    0x00,
    i.hardwareScheme,
    i.firmwareMajor,
    i.firmwareMinor,
    0x00,
    i.rtc ? 1 : 0,
    0x00,
    i.interval === 60 ? 0x10 : 0x00,
    0x00,
  ]);
}

/** One digit per byte, the low nibble. */
export function parseCodePayload(p: Uint8Array): string {
  if (p.length < 4 || p.length > 10) throw new FrameError(`code payload has ${p.length} digits`);
  return [...p]
    .map((b) => {
      const d = b & 0x0f;
      if (d > 9) throw new FrameError(`code byte ${hex([b])} is not a digit`);
      return String(d);
    })
    .join('');
}

export function encodeCodePayload(code: string): Uint8Array {
  return Uint8Array.from([...code].map((c) => 0x30 | Number(c)));
}

export function commandNameOf(frame: Uint8Array): ProtectimusCommand | null {
  const c = frame[0] === REQUEST_HEAD ? frame[2] : frame[0] === ANSWER_HEAD ? frame[2] : undefined;
  return c === CMD.info ? 'info' : c === CMD.readCode ? 'readCode' : c === CMD.setTime ? 'setTime' : null;
}

function hex(b: ArrayLike<number>): string {
  return toHex(b);
}
