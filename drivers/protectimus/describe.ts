/** Protectimus frames in words, for cassette transcripts and replay diffs. */
import { toHex } from '../../src/core/bytes.js';
import { describeGetResponse, isGetResponse } from '../../src/transport/iso7816.js';
import { CMD, parseAnswer, parseCodePayload, parseInfoPayload, parseRequest, parseSetTimeData } from './protocol.js';

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

export function describeCommand(frame: Uint8Array): string {
  if (frame[0] === 0xff && frame[1] === 0xca) return "get the card's UID (reader pseudo-APDU)";
  // The UID read is the one real APDU here: its answer may be fetched with GET RESPONSE.
  if (isGetResponse(frame)) return describeGetResponse(frame);
  let data;
  try {
    data = parseRequest(frame);
  } catch (e) {
    return `malformed request: ${(e as Error).message}`;
  }
  if (data[0] === CMD.info) return 'read info';
  if (data[0] === CMD.readCode) return 'read the code on the display';
  if (data[0] === CMD.setTime) {
    const t = parseSetTimeData(data);
    return t
      ? `set the clock to ${iso(t.time)} (${t.time}), ${t.interval} s steps; XOR ok`
      : 'set the clock (malformed)';
  }
  return `unknown command ${data[0]?.toString(16)}`;
}

export function describeResponse(frame: Uint8Array, command?: Uint8Array): string {
  if (command && command[0] === 0xff) return `UID ${toHex(frame.subarray(0, -2))}`;
  try {
    const a = parseAnswer(frame);
    if (a.cmd === CMD.info) {
      const i = parseInfoPayload(a.payload);
      return `info: hardware scheme ${i.hardwareScheme}, firmware ${i.firmware}, RTC ${i.rtc ? 'yes' : 'no'}, interval ${i.interval ?? '?'} s; checksum ok`;
    }
    if (a.cmd === CMD.readCode) return `code ${parseCodePayload(a.payload)}; checksum ok`;
    if (a.cmd === CMD.setTime)
      return a.payload.length === 0 ? 'clock set; checksum ok' : `set time answered ${toHex(a.payload)}`;
    return `answer to ${a.cmd.toString(16)}`;
  } catch (e) {
    return `bad answer: ${(e as Error).message}`;
  }
}

export function describeFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): string {
  return dir === 'command' ? describeCommand(bytes) : describeResponse(bytes, command);
}
