/**
 * What the yubikey family needs for model `yubikey-otp` (the OTP
 * application's OATH-HOTP slots): describer, seed-bearing check, simulator
 * factory, replay and the verbs/operations it supports.
 */
import { DataError } from '../../../src/core/errors.js';
import { framesAsPort } from '../../../src/transport/hid-reports.js';
import type { ApduTransport } from '../../../src/transport/types.js';
import type { CassetteOperation } from '../../../src/transport/types.js';
import { fromHex } from '../../../src/core/bytes.js';
import type { DeviceVerb, ReplayContext, SimulatedDevice, SimulatorProgress, SimulatorSettings } from '../../family.js';
import { describeFrame, isSeedBearing } from './describe.js';
import { YubiOtpDriver } from './driver.js';
import { OTP_AID, REPORT_SIZE } from './framing.js';
import { CcidOtpLink, HidOtpLink, type OtpLink } from './link.js';
import { DEFAULT_YUBIKEY_SERIAL, YubiOtpSimulator } from './simulator.js';

export { YubiOtpDriver } from './driver.js';
export { CcidOtpLink, HidOtpLink, type OtpLink } from './link.js';
export { YubiOtpSimulator } from './simulator.js';

export const YUBIKEY_OTP_MODEL = 'yubikey-otp';
export const OTP_VERBS: readonly DeviceVerb[] = ['info', 'flash'];
export const OTP_OPERATIONS = ['flash', 'info'] as const;
/** A stand-in access code for replaying a recording whose access code was (always) redacted. */
const STAND_IN_ACCESS_CODE = new Uint8Array(6).fill(0x5a);

/** The OATH application's instructions (PUT, DELETE, SET CODE, RESET, RENAME, LIST, CALCULATE, VALIDATE, CALCULATE ALL, SEND REMAINING). */
const OATH_INS = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
const endsWithOtpAid = (b: Uint8Array) => b.length >= 12 && b[1] === 0xa4 && OTP_AID.every((x, i) => b[5 + i] === x);
const looksLikeApdu = (b: Uint8Array) => b.length >= 4 && (b.length <= 5 || b.length === 5 + b[4]!);

/** Whether a frame belongs to the OTP application (HID reports, its SELECT, INS 01 with a slot command in P1), so a family can send it here. */
export function isOtpFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): boolean {
  const cmd = dir === 'command' ? bytes : command;
  if (!cmd) return false;
  if (cmd.length === 0) return true;
  if (endsWithOtpAid(cmd)) return true;
  if (cmd[0] === 0x00 && cmd[1] === 0x01 && cmd[2] !== 0x00 && looksLikeApdu(cmd)) return true;
  // An 8-byte write report ends in 0x80 | part (or FF); an 8-byte OATH APDU is CLA 00, one of its INS, and Lc 3.
  return (
    cmd.length === REPORT_SIZE &&
    (cmd[7]! & 0x80) !== 0 &&
    !(cmd[0] === 0x00 && OATH_INS.has(cmd[1]!) && looksLikeApdu(cmd))
  );
}

export const describeOtpFrame = describeFrame;
export const isOtpSeedBearing = isSeedBearing;

/** `simulate yubikey-otp`: the OTP application on vpcd (CCID). A write is read back by the status it answers. */
export function createOtpSimulator(
  _model: string,
  s: SimulatorSettings,
  onChange: (p: SimulatorProgress) => void,
): SimulatedDevice {
  const sim = new YubiOtpSimulator({
    serial: s.serial,
    onChange: (_st, what) => onChange({ readBack: what === 'write', lookedAt: what === 'serial' }),
  });
  return { atr: sim.atr, process: (apdu) => sim.process(apdu), reset: () => sim.reset(), stateView: () => sim.state() };
}
export const otpDefaultSerial = (): string => DEFAULT_YUBIKEY_SERIAL;

/** The link a recording used: `params.link` ('hid' or 'ccid'). */
export function linkFor(transport: ApduTransport, link: unknown): OtpLink {
  return link === 'hid' ? new HidOtpLink(framesAsPort(transport)) : new CcidOtpLink(transport);
}

/** Runs a recorded OTP operation again through the real driver. */
export async function replayOtp(op: CassetteOperation, transport: ApduTransport, ctx: ReplayContext): Promise<void> {
  const p = op.params;
  const driver = new YubiOtpDriver(linkFor(transport, p.link));
  if (op.name === 'info') {
    await driver.readInfo();
    return;
  }
  if (op.name !== 'flash')
    throw new DataError(
      `yubikey-otp has no cassette operation '${op.name}' (it replays ${OTP_OPERATIONS.join(', ')})`,
      { code: 'bad-cassette' },
    );
  const slot = Number(p.slot) === 2 ? 2 : 1;
  const tokenId = typeof p.tokenIdHex === 'string' && p.tokenIdHex ? fromHex(p.tokenIdHex) : undefined;
  const accessCode = p.accessCode ? STAND_IN_ACCESS_CODE : undefined;
  // The same steps as src/provision/yubikey-otp.ts: identify, then one write judged against that status.
  const info = await driver.readInfo();
  await driver.programHotp(
    slot,
    {
      seed: ctx.seed ?? new Uint8Array(20),
      digits: Number(p.digits) === 8 ? 8 : 6,
      counter: Number(p.counter ?? 0),
      tokenId,
      newAccessCode: accessCode,
    },
    accessCode,
    info.status,
  );
}
