/**
 * The ISO 7816-4 layer every APDU driver sends through: split an answer into
 * data and status word, name a status word, and follow the two status words
 * that ask the host to act (61xx: more data, fetch it with GET RESPONSE;
 * 6Cxx: wrong Le, send the command again with the right one). What each
 * family's tokens rely on is in its page under docs/protocols/.
 */
import { toHex } from '../core/bytes.js';
import { DeviceError } from '../core/errors.js';
import type { ApduTransport } from './types.js';

export const SW_OK = 0x9000;
export const INS_GET_RESPONSE = 0xc0;

export interface ApduAnswer {
  data: Uint8Array;
  sw: number;
}

export function splitAnswer(resp: Uint8Array): ApduAnswer {
  if (resp.length < 2)
    throw new DeviceError(
      `the token's answer of ${resp.length} byte(s) has no status word; take it off the reader and try again`,
      { code: 'bad-answer' },
    );
  return { data: resp.slice(0, resp.length - 2), sw: (resp[resp.length - 2]! << 8) | resp[resp.length - 1]! };
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** The ISO 7816-4 meaning of a status word, or null for one a family must name itself. */
export function isoStatusText(sw: number): string | null {
  const fixed: Record<number, string> = {
    0x9000: 'success',
    0x6700: 'wrong length',
    0x6982: 'security status not satisfied',
    0x6983: 'authentication method blocked',
    0x6a80: 'bad data in the command',
    0x6a86: 'wrong P1 P2',
    0x6d00: 'instruction not supported',
    0x6e00: 'class not supported',
  };
  if (fixed[sw]) return fixed[sw]!;
  if (sw >> 8 === 0x61) return `${sw & 0xff} more bytes available (GET RESPONSE)`;
  if (sw >> 8 === 0x6c) return `wrong Le: the token has ${sw & 0xff} bytes`;
  if (sw >> 8 === 0x63) return `verification failed, ${sw & 0x0f} tries left`;
  return null;
}

/** GET RESPONSE in either class a family sends it with (00, or 80 for tokens that take only proprietary classes). */
export function isGetResponse(apdu: Uint8Array): boolean {
  return apdu.length >= 2 && (apdu[0] === 0x00 || apdu[0] === 0x80) && apdu[1] === INS_GET_RESPONSE;
}

/** A GET RESPONSE in words, with the class byte it was actually sent with ("GET RESPONSE 80 C0, Le 16"), for every family's describer. */
export function describeGetResponse(apdu: Uint8Array): string {
  return `GET RESPONSE ${toHex(apdu.subarray(0, 1))} C0, Le ${apdu[4] ?? 0}`;
}

export interface ExchangeOptions {
  timeoutMs?: number;
  /**
   * The class byte of GET RESPONSE: 'command' takes the class family of the
   * command it continues (80 after 80/84: some tokens refuse 00 with 6E00),
   * a number is used as it is (00 for a card that follows ISO strictly).
   */
  getResponseClass?: 'command' | number;
  /** The instruction that fetches the rest after 61xx: GET RESPONSE (C0) unless the application names its own (YKOATH: SEND REMAINING, A5). */
  remainingIns?: number;
}

export interface Exchange extends ApduAnswer {
  /** How many APDUs went to the token (the command, a resend, GET RESPONSEs). */
  transmits: number;
}

/** Sends one command and follows 6Cxx (once) and 61xx (until the data is all there). */
export async function exchange(
  transport: ApduTransport,
  apdu: Uint8Array,
  opts: ExchangeOptions = {},
): Promise<Exchange> {
  const send = async (bytes: Uint8Array) => splitAnswer(await transport.transmit(bytes, { timeoutMs: opts.timeoutMs }));
  let transmits = 1;
  let resp = await send(apdu);
  // 6Cxx: only a bare header + Le command can be resent with another Le; one that carries data would change meaning.
  if (resp.sw >> 8 === 0x6c && apdu.length === 5) {
    transmits++;
    resp = await send(Uint8Array.from([...apdu.subarray(0, 4), resp.sw & 0xff]));
  }
  let data = resp.data;
  const klass = opts.getResponseClass ?? 'command';
  const cla = klass === 'command' ? (apdu[0]! & 0x80 ? 0x80 : 0x00) : klass;
  while (resp.sw >> 8 === 0x61) {
    transmits++;
    resp = await send(Uint8Array.from([cla, opts.remainingIns ?? INS_GET_RESPONSE, 0x00, 0x00, resp.sw & 0xff]));
    data = Uint8Array.from([...data, ...resp.data]);
  }
  return { data, sw: resp.sw, transmits };
}
