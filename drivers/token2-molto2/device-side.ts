/**
 * Token2 Molto2 / Molto2v2, the device side of protocol.ts: commands taken
 * apart and their bodies opened (for the simulator), commands named (for
 * cassette transcripts). Bytes only, no I/O; see docs/protocols/token2-molto2.md.
 */
import { utf8Decode } from '../../src/core/bytes.js';
import type { Sm4 } from '../../src/core/sm4.js';
import {
  CLA_PLAIN,
  CLA_SECURE,
  parseCommand as parseToken2Command,
  type ParsedCommand,
} from '../token2-shared/protocol.js';
import { INS, MAX_SEED_BYTES, MAX_TITLE_BYTES } from './protocol.js';

// The same frame as a Token2 NFC command, so the same parsed shape.
export type { ParsedCommand };

/** Takes a command apart; `cipher` (the key the device holds) checks the MAC of secure commands. */
export function parseCommand(a: Uint8Array, cipher?: Sm4): ParsedCommand {
  return parseToken2Command(a, cipher);
}

/** Decrypts a seed body: the seed, `'clear'` for the all-zero seed, or null when malformed. */
export function openSeedBody(cipher: Sm4, body: Uint8Array): Uint8Array | 'clear' | null {
  if (body.length === 0 || body.length % 16 !== 0 || body.length > 64) return null;
  const plain = cipher.decryptEcb(body);
  if (plain.every((b) => b === 0)) return 'clear';
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0x00) end--;
  if (end < 1 || plain[end] !== 0x80 || end > MAX_SEED_BYTES) {
    plain.fill(0);
    return null;
  }
  const seed = plain.slice(0, end);
  plain.fill(0);
  return seed;
}

export function openTitleBody(cipher: Sm4, body: Uint8Array): string | null {
  if (body.length !== 16) return null;
  const plain = cipher.decryptEcb(body);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0x00) end--;
  if (end < 1 || plain[end] !== 0x80 || end > MAX_TITLE_BYTES) return null;
  return utf8Decode(plain.subarray(0, end));
}

export type ConfigFields =
  | {
      kind: 'full';
      displayTimeoutCode: number;
      time: number;
      algorithmCode: number;
      digits: number;
      periodCode: number;
    }
  | { kind: 'time'; time: number };

export function parseConfigBody(body: Uint8Array): ConfigFields | null {
  const u32 = (o: number) => ((body[o]! << 24) | (body[o + 1]! << 16) | (body[o + 2]! << 8) | body[o + 3]!) >>> 0;
  if (body.length === 8 && body[0] === 0x81 && body[1] === 0x06 && body[2] === 0x0f && body[3] === 0x04)
    return { kind: 'time', time: u32(4) };
  if (body.length !== 22) return null;
  const fixed: [number, number][] = [
    [0, 0x81],
    [1, 0x14],
    [2, 0x1f],
    [3, 0x01],
    [5, 0x0f],
    [6, 0x04],
    [11, 0x86],
    [12, 0x09],
    [13, 0x0a],
    [14, 0x01],
    [16, 0x0b],
    [17, 0x01],
    [19, 0x0d],
    [20, 0x01],
  ];
  if (fixed.some(([i, v]) => body[i] !== v)) return null;
  return {
    kind: 'full',
    displayTimeoutCode: body[4]!,
    time: u32(7),
    algorithmCode: body[15]!,
    digits: body[18]!,
    periodCode: body[21]!,
  };
}

/** Opens a customer key change: the new SM4 key, or null when malformed. */
export function openChangeKeyBody(cipher: Sm4, body: Uint8Array): Uint8Array | null {
  if (body.length !== 32) return null;
  const plain = cipher.decryptEcb(body);
  if (plain[0] !== 0x00 || plain[17] !== 0x80 || plain.subarray(18).some((b) => b !== 0)) return null;
  return plain.slice(1, 17);
}

export type CommandName =
  | 'info'
  | 'readProfile'
  | 'challenge'
  | 'authenticate'
  | 'factoryReset'
  | 'deleteSeed'
  | 'lockScreen'
  | 'unlockScreen'
  | 'writeSeed'
  | 'writeTitle'
  | 'writeConfig'
  | 'syncTime'
  | 'changeKey';

export function commandNameOf(a: Uint8Array): CommandName | null {
  if (a.length < 4) return null;
  const [cla, ins] = [a[0]!, a[1]!];
  if (cla === CLA_PLAIN) {
    if (ins === INS.info) return a.length > 5 ? 'readProfile' : 'info';
    if (ins === INS.challenge) return 'challenge';
    if (ins === INS.authenticate) return 'authenticate';
    if (ins === INS.factoryReset) return 'factoryReset';
    if (ins === INS.deleteSeed) return 'deleteSeed';
    if (ins === INS.screen) return a.length > 5 ? 'unlockScreen' : 'lockScreen';
  }
  if (cla === CLA_SECURE || cla === CLA_PLAIN) {
    if (ins === INS.writeSeed) return 'writeSeed';
    if (ins === INS.writeTitle) return 'writeTitle';
    if (ins === INS.writeConfig) return a[4] === 12 ? 'syncTime' : 'writeConfig';
    if (ins === INS.changeKey) return 'changeKey';
    if (ins === INS.deleteSeed) return 'deleteSeed';
  }
  return null;
}
