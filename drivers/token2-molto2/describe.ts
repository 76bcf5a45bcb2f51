/**
 * Molto2 frames in words, for cassette transcripts and replay diffs. Seed,
 * title and key bodies are never decoded (they are SM4 ciphertext under the
 * customer key, which a transcript does not have).
 */
import { toHex } from '../../src/core/bytes.js';
import { describeGetResponse, isGetResponse } from '../../src/transport/iso7816.js';
import { commandNameOf, parseCommand, parseConfigBody } from './device-side.js';
import {
  algorithmOf,
  displayTimeoutOf,
  parseInfo,
  parseProfileBlock,
  periodOf,
  splitResponse,
  statusWordMeaning,
  swHex,
} from './protocol.js';

const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

export function describeCommand(apdu: Uint8Array): string {
  if (isGetResponse(apdu)) return describeGetResponse(apdu);
  const name = commandNameOf(apdu);
  const p = apdu[3] ?? 0;
  switch (name) {
    case null:
      return 'unknown command';
    case 'info':
      return 'get info';
    case 'readProfile':
      return `read the public block of profile ${p}`;
    case 'challenge':
      return 'get challenge';
    case 'authenticate':
      return 'authenticate (SM4 of challenge || 8 zero bytes under the customer key)';
    case 'factoryReset':
      return 'factory reset (waits for the ▲ button)';
    case 'deleteSeed':
      return `delete the seed of profile ${p}`;
    case 'lockScreen':
      return 'lock the screen';
    case 'unlockScreen':
      return 'unlock the screen';
    case 'writeSeed':
      return `write the seed of profile ${p} (${Math.max(0, (apdu[4] ?? 0) - 4)} bytes of SM4-ECB ciphertext + MAC; not decoded)`;
    case 'writeTitle':
      return `write the title of profile ${p} (SM4-ECB ciphertext + MAC; not decoded)`;
    case 'changeKey':
      return 'change the customer key (new key under SM4; not decoded)';
  }
  const f = parseConfigBody(parseCommand(apdu).body);
  if (!f) return `write config of profile ${p} (malformed body)`;
  if (f.kind === 'time') return `set the clock of profile ${p} to ${iso(f.time)} (${f.time})`;
  const dt = displayTimeoutOf(f.displayTimeoutCode);
  return `write config of profile ${p}: display ${dt ?? '?'} s, clock ${iso(f.time)}, ${algorithmOf(f.algorithmCode) ?? `algorithm code ${f.algorithmCode}`}, ${f.digits} digits, time step ${periodOf(f.periodCode) ?? '?'} s`;
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
  const name = command ? commandNameOf(command) : null;
  try {
    if (name === 'info') {
      const i = parseInfo(r.data);
      return `serial ${i.serial}, clock ${iso(i.deviceTime)}; ${sw}`;
    }
    if (name === 'readProfile') {
      const b = parseProfileBlock(r.data);
      return `profile: title '${b.title}', ${algorithmOf(b.algorithmCode) ?? '?'}, ${b.digits} digits, step ${periodOf(b.periodCode) ?? '?'} s, seed ${b.seedPresent ? 'present' : 'absent'}, clock ${iso(b.rtcTime)}; ${sw}`;
    }
  } catch (e) {
    return `${(e as Error).message}; ${sw}`;
  }
  if (name === 'challenge') return `challenge ${toHex(r.data)}; ${sw}`;
  return `${r.data.length} data bytes; ${sw}`;
}

export function describeFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): string {
  return dir === 'command' ? describeCommand(bytes) : describeResponse(bytes, command);
}
