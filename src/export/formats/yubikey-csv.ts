/**
 * The YubiKey personalization tool's CSV log ("traditional" layout), the
 * file src/import/formats/yubikey-csv.ts reads and privacyIDEA/LinOTP import:
 * `OATH-HOTP, date, slot, public id (modhex), private id, secret (hex), ...`
 * with the code length in column 12. Only OATH-HOTP SHA-1 slots of a
 * YubiKey fit; the log has no counter column, so a token past counter 0 is
 * left out (it would come back at 0 and accept codes again).
 */
import { csvRow } from '../csv-cells.js';
import type { ExportToken, FormatWriter } from '../types.js';

const MODHEX = 'cbdefghijklnrtuv';

/** A YubiKey slot as the log names it: the key's serial and the slot, from UBOM<serial>_<slot> or the token's device serial and profile. */
export function yubikeySlotOf(t: ExportToken['token']): { serial: bigint; slot: number } | null {
  const m = /^UBOM(\d+)_([12])$/.exec(t.serial);
  if (m) return { serial: BigInt(m[1]!), slot: Number(m[2]) };
  if (
    t.manufacturer === 'Yubico' &&
    t.deviceSerial &&
    /^\d+$/.test(t.deviceSerial) &&
    (t.profile === 1 || t.profile === 2)
  )
    return { serial: BigInt(t.deviceSerial), slot: t.profile };
  return null;
}

/** The public id the log writes: the serial's bytes (at least 4) in modhex, which the importer reads back as the same number. */
export function publicIdOf(serial: bigint): string {
  let hex = serial.toString(16);
  hex = hex.padStart(Math.max(8, hex.length + (hex.length % 2)), '0');
  return [...hex].map((h) => MODHEX[parseInt(h, 16)]).join('');
}

export class YubikeyCsvWriter implements FormatWriter {
  readonly encrypted = false;
  constructor(private readonly now: () => Date = () => new Date()) {}

  refuse(t: ExportToken): string | null {
    const tok = t.token;
    if (tok.type !== 'hotp')
      return `the YubiKey log carries OATH-HOTP slots only; this token is ${tok.type.toUpperCase()}`;
    if (tok.algorithm !== 'sha1')
      return `a YubiKey OATH-HOTP slot is HMAC-SHA1; this token is ${tok.algorithm.toUpperCase()}`;
    if (tok.digits !== 6 && tok.digits !== 8)
      return `a YubiKey OATH-HOTP slot shows 6 or 8 digits; this token shows ${tok.digits}`;
    if (tok.counter !== 0)
      return `the YubiKey log has no counter column: this token (counter ${tok.counter}) would come back at 0; export it as pskc`;
    if (!yubikeySlotOf(tok))
      return 'the YubiKey log names a slot of a YubiKey (UBOM<serial>_<slot>); this token is not one';
    return null;
  }

  header(): string {
    return `LOGGING START,${this.now().toISOString().slice(0, 19)}\r\n`;
  }

  entry(t: ExportToken): string {
    const slot = yubikeySlotOf(t.token)!;
    const cells = [
      'OATH-HOTP',
      this.now().toISOString().slice(0, 19),
      slot.slot,
      publicIdOf(slot.serial),
      '',
      t.seed.toString('hex'),
      '',
      '',
      '',
      '',
      '',
      t.token.digits,
    ];
    return csvRow(cells, ',');
  }

  footer(): string {
    return '';
  }
}
