/**
 * Words for YubiKey OTP frames, for cassette transcripts and replay diffs:
 * HID feature reports (8 bytes written, or an empty command = a report read)
 * and CCID APDUs to the OTP application. Key bytes are never printed.
 */
import {
  ACCESS_CODE_SIZE,
  CONFIG_SIZE,
  SLOT_CMD,
  decodeSlotConfig,
  hotpOfConfig,
  isEmptyConfig,
  parseStatus,
} from './protocol.js';
import {
  INS_CONFIG,
  REPORT_SIZE,
  RESP_PENDING_FLAG,
  RESP_TIMEOUT_WAIT_FLAG,
  SEQUENCE_MASK,
  SLOT_WRITE_FLAG,
} from './framing.js';

const SLOT_NAMES: Record<number, string> = {
  [SLOT_CMD.CONFIG_1]: 'CONFIG slot 1',
  [SLOT_CMD.CONFIG_2]: 'CONFIG slot 2',
  [SLOT_CMD.UPDATE_1]: 'UPDATE slot 1',
  [SLOT_CMD.UPDATE_2]: 'UPDATE slot 2',
  [SLOT_CMD.SWAP]: 'SWAP slots',
  [SLOT_CMD.DEVICE_SERIAL]: 'read serial',
};

const slotName = (cmd: number) => SLOT_NAMES[cmd] ?? `slot command 0x${cmd.toString(16).padStart(2, '0')}`;

function describeStatus(b: Uint8Array): string {
  const s = parseStatus(b);
  return `status: firmware ${s.version.join('.')}, sequence ${s.sequence}, slot 1 ${s.slot1Configured ? 'configured' : 'empty'}, slot 2 ${s.slot2Configured ? 'configured' : 'empty'}`;
}

/** A config write's payload in words: the credential kind, digits, counter, flags; never the key. */
export function describeConfigPayload(payload: Uint8Array): string {
  const record = payload.subarray(0, CONFIG_SIZE);
  const given = payload.subarray(CONFIG_SIZE, CONFIG_SIZE + ACCESS_CODE_SIZE);
  const access = given.some((b) => b !== 0) ? 'with the current access code' : 'no current access code';
  if (isEmptyConfig(record)) return `delete the slot, ${access}`;
  try {
    const c = decodeSlotConfig(record);
    const h = hotpOfConfig(c);
    const kind = h ? `OATH-HOTP ${h.digits} digits, counter ${h.counter}` : 'a non-HOTP configuration';
    const newAccess = c.accessCode.some((b) => b !== 0) ? ', sets an access code' : '';
    return `${kind}, token id ${c.fixedLength} bytes, ext 0x${c.ext.toString(16)}, tkt 0x${c.tkt.toString(16)}, cfg 0x${c.cfg.toString(16)}${newAccess}, CRC valid, ${access}`;
  } catch {
    return `config record with a bad CRC, ${access}`;
  }
}

function describeReport(bytes: Uint8Array, dir: 'command' | 'response'): string {
  const flag = bytes[7]!;
  if (dir === 'command') {
    if (flag & SLOT_WRITE_FLAG && flag !== 0xff && flag !== 0x8f) return `HID write: frame part ${flag & 0x7f} of 0..9`;
    return 'HID write: reset (response read)';
  }
  if (flag & RESP_PENDING_FLAG) return `HID read: response part ${flag & SEQUENCE_MASK}`;
  if (flag & SLOT_WRITE_FLAG) return 'HID read: busy (write pending)';
  if (flag & RESP_TIMEOUT_WAIT_FLAG) return 'HID read: waiting for touch';
  return `HID read: ${describeStatus(bytes.subarray(1, 7))}`;
}

const isApdu = (b: Uint8Array) =>
  b.length >= 4 && b[0] === 0x00 && (b[1] === 0xa4 || b[1] === INS_CONFIG) && (b.length <= 5 || b.length === 5 + b[4]!);

export function describeFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): string {
  if (dir === 'command' && bytes.length === 0) return 'HID read feature report';
  if (dir === 'response' && bytes.length === 0) return 'HID report taken';
  if (dir === 'command' && isApdu(bytes)) {
    if (bytes[1] === 0xa4) return 'SELECT the OTP application';
    const body = bytes.subarray(5);
    return `${slotName(bytes[2]!)}${body.length >= CONFIG_SIZE ? `: ${describeConfigPayload(body)}` : ''}`;
  }
  if (dir === 'command' && bytes.length === REPORT_SIZE) return describeReport(bytes, dir);
  if (dir === 'response' && bytes.length === REPORT_SIZE && command?.length === 0) return describeReport(bytes, dir);
  if (dir === 'response' && bytes.length >= 2) {
    const sw = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
    const data = bytes.subarray(0, bytes.length - 2);
    const swText = sw === 0x9000 ? 'OK' : sw === 0x6a82 ? 'no such application' : sw.toString(16).toUpperCase();
    if (data.length === 6) return `${describeStatus(data)}; ${swText}`;
    if (data.length === 4 && command?.[2] === SLOT_CMD.DEVICE_SERIAL)
      return `serial ${new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0)}; ${swText}`;
    return swText;
  }
  return `${bytes.length} bytes`;
}

/**
 * Commands that carry key bytes, or CRCs computed over them: a CCID config
 * write, or a HID report of frame parts 2..9 (the uid holding key bytes
 * 16..19, the key, the record's CRC in part 7 and the frame's CRC in part 9).
 */
export function isSeedBearing(command: Uint8Array): boolean {
  if (isApdu(command)) return command[1] === INS_CONFIG && command.length > 5 + CONFIG_SIZE - 1;
  if (command.length !== REPORT_SIZE) return false;
  const flag = command[7]!;
  const part = flag & 0x7f;
  return (flag & SLOT_WRITE_FLAG) !== 0 && flag !== 0xff && part >= 2;
}
