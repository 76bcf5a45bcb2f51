/**
 * Token2 frames in words, for cassette transcripts and replay diffs:
 * command names, decoded config fields, status words in words. The seed body
 * is never decoded here.
 */
import { toHex } from '../../src/core/bytes.js';
import { describeGetResponse, isGetResponse } from '../../src/transport/iso7816.js';
import {
  CLA_SECURE,
  INS,
  algorithmOf,
  commandNameOf,
  displayTimeoutSeconds,
  parseCommand,
  parseConfigBody,
  parseInfo,
  periodOf,
  splitResponse,
  statusWordMeaning,
  swHex,
} from './protocol.js';

const hex = toHex;

function isoTime(t: number): string {
  return new Date(t * 1000).toISOString().replace('.000Z', 'Z');
}

export function describeCommand(apdu: Uint8Array): string {
  if (isGetResponse(apdu)) return describeGetResponse(apdu);
  const name = apdu.length >= 2 ? commandNameOf(apdu[0]!, apdu[1]!) : null;
  if (!name) return 'unknown command';
  if (name === 'info') return 'get info';
  if (name === 'challenge') return 'get challenge';
  if (name === 'authenticate') return 'authenticate (SM4 of challenge || 8 zero bytes)';
  if (name === 'writeSeed') {
    const lc = apdu[4] ?? 0;
    return `write seed (${Math.max(0, lc - 4)} bytes of SM4-ECB ciphertext + MAC; body not decoded)`;
  }
  const c = parseCommand(apdu);
  const f = parseConfigBody(c.body);
  if (!f) return `write config (malformed body ${hex(c.body)})`;
  const dt = displayTimeoutSeconds(f.displayTimeoutCode);
  const alg = algorithmOf(f.algorithmCode);
  const step = periodOf(f.periodCode);
  return (
    `write config: display timeout ${dt !== null ? `${dt} s` : `unknown code ${f.displayTimeoutCode}`} (code ${f.displayTimeoutCode}), ` +
    `clock ${isoTime(f.time)} (${f.time}), ${alg ?? `algorithm code ${f.algorithmCode}`}, ` +
    `time step ${step !== null ? `${step} s` : `code ${f.periodCode}`}, MAC ${c.macOk ? 'valid' : 'INVALID'}`
  );
}

export function describeResponse(resp: Uint8Array, command?: Uint8Array): string {
  let r;
  try {
    r = splitResponse(resp);
  } catch {
    return `no status word (${resp.length} bytes)`;
  }
  const sw = `${swHex(r.sw)} ${statusWordMeaning(r.sw)}`;
  if (r.data.length === 0) return sw;
  const name = command && command.length >= 2 ? commandNameOf(command[0]!, command[1]!) : null;
  if (name === 'info') {
    try {
      const i = parseInfo(r.data);
      return `serial ${i.serial}, token clock ${isoTime(i.deviceTime)} (${i.deviceTime}); ${sw}`;
    } catch (e) {
      return `info: ${(e as Error).message}; ${sw}`;
    }
  }
  if (name === 'challenge') return `challenge ${hex(r.data)}; ${sw}`;
  return `${r.data.length} data bytes; ${sw}`;
}

/** A frame describer for the replay transport. */
export function describeFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): string {
  return dir === 'command' ? describeCommand(bytes) : describeResponse(bytes, command);
}

/** Whether a command carries a seed (its body is redacted in recordings of real seeds). */
export function isSeedBearing(apdu: Uint8Array): boolean {
  return apdu[0] === CLA_SECURE && apdu[1] === INS.writeSeed;
}
