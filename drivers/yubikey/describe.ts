/** YubiKey OATH frames in words, for cassette transcripts and replay diffs. */
import { bytesEqual, toHex, utf8Decode } from '../../src/core/bytes.js';
import { isoStatusText, swHex } from '../../src/transport/iso7816.js';
import {
  INS,
  OATH_AID,
  TAG,
  oathStatusText,
  parseCalculateAll,
  parseList,
  parseSelect,
  parseTlvs,
  parseTypeAlgorithm,
} from './oath-protocol.js';

/** PUT carries the credential's secret, SET CODE the access key: both are redacted in a recording. */
export function isSeedBearing(apdu: Uint8Array): boolean {
  return apdu.length > 5 && apdu[0] === 0x00 && (apdu[1] === INS.put || apdu[1] === INS.setCode);
}

const hex = (b: Uint8Array) => toHex(b);
const text = (b: Uint8Array | undefined) => (b ? utf8Decode(b) : '?');
const uint32At = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
const uint64At = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0);

function describePut(data: Uint8Array): string {
  const t = parseTlvs(data, [TAG.property]);
  const key = t.find((x) => x.tag === TAG.key)?.value;
  const ta = key ? parseTypeAlgorithm(key[0]!) : null;
  const touch = t.some((x) => x.tag === TAG.property && (x.value[0]! & 0x02) !== 0);
  const imf = t.find((x) => x.tag === TAG.imf)?.value;
  return `PUT credential '${text(t.find((x) => x.tag === TAG.name)?.value)}': ${ta ? `${ta.type}, ${ta.algorithm}` : 'unknown type'}, ${key?.[1] ?? '?'} digits, ${key ? key.length - 2 : 0}-byte key${touch ? ', touch required' : ''}${imf ? `, counter from ${uint32At(imf)}` : ''}`;
}

export function describeCommand(apdu: Uint8Array): string {
  const ins = apdu[1];
  const data = apdu.length > 5 ? apdu.subarray(5, 5 + apdu[4]!) : new Uint8Array();
  try {
    if (ins === 0xa4 && apdu[2] === 0x04)
      return bytesEqual(data, OATH_AID) ? 'SELECT the OATH application' : `SELECT application ${hex(data)} (not OATH)`;
    const t = () => parseTlvs(data);
    const name = () => text(t().find((x) => x.tag === TAG.name)?.value);
    switch (ins) {
      case INS.put:
        return apdu.length <= 5 ? 'PUT credential (body redacted)' : describePut(data);
      case INS.delete:
        return `DELETE credential '${name()}'`;
      case INS.list:
        return 'LIST credentials';
      case INS.calculate: {
        const ch = t().find((x) => x.tag === TAG.challenge)?.value ?? new Uint8Array();
        return `CALCULATE '${name()}' ${ch.length === 8 ? `at step ${uint64At(ch)}` : '(HOTP: its own counter)'}${apdu[3] === 1 ? ', truncated' : ', full HMAC'}`;
      }
      case INS.calculateAll: {
        const ch = t().find((x) => x.tag === TAG.challenge)?.value;
        return `CALCULATE ALL at 30 s step ${ch?.length === 8 ? uint64At(ch) : '?'}${apdu[3] === 1 ? ', truncated' : ''}`;
      }
      case INS.validate:
        return 'VALIDATE the access password (our response to the key, our challenge to it)';
      case INS.setCode:
        return data.length <= 2
          ? 'SET CODE: clear the access password'
          : 'SET CODE: a new access password (key redacted)';
      case INS.reset:
        return 'RESET the OATH application (every credential and the password go)';
      case INS.rename:
        return 'RENAME a credential';
      case INS.sendRemaining:
        return 'SEND REMAINING (the rest of the last answer)';
      default:
        return `unknown instruction ${(ins ?? 0).toString(16)}`;
    }
  } catch (e) {
    return `malformed command: ${(e as Error).message}`;
  }
}

function describeData(data: Uint8Array, command: Uint8Array | undefined): string {
  const ins = command?.[1];
  if (ins === 0xa4 && command?.[2] === 0x04) {
    const s = parseSelect(data);
    return `version ${s.version}, device id ${hex(s.salt)}, ${s.challenge ? 'access password set (challenge follows)' : 'no access password'}`;
  }
  if (ins === INS.list)
    return `${parseList(data).length} credential(s): ${
      parseList(data)
        .map((c) => `${c.name} (${c.type}, ${c.algorithm})`)
        .join(', ') || 'none'
    }`;
  if (ins === INS.calculateAll)
    return (
      parseCalculateAll(data)
        .map((e) => `${e.name}: ${e.code ?? e.kind}`)
        .join('; ') || 'no credentials'
    );
  if (ins === INS.calculate)
    return `code ${parseTlvs(data).find((x) => x.tag === TAG.truncated) ? 'calculated' : 'HMAC'} (${data.length} bytes)`;
  if (ins === INS.validate) return "the key's response to our challenge";
  return `${data.length} bytes`;
}

export function describeResponse(resp: Uint8Array, command?: Uint8Array): string {
  if (resp.length < 2) return 'no status word';
  const sw = (resp[resp.length - 2]! << 8) | resp[resp.length - 1]!;
  const data = resp.subarray(0, -2);
  const status = sw === 0x9000 ? 'ok' : `${swHex(sw)} ${oathStatusText(sw) ?? isoStatusText(sw) ?? ''}`.trim();
  if (data.length === 0) return status;
  // A piece of a longer answer (61xx) is only bytes until the rest arrives.
  if (sw >> 8 === 0x61 || command?.[1] === INS.sendRemaining) return `${data.length} bytes; ${status}`;
  try {
    return `${describeData(data, command)}; ${status}`;
  } catch (e) {
    return `${data.length} bytes (unreadable: ${(e as Error).message}); ${status}`;
  }
}

export function describeFrame(bytes: Uint8Array, dir: 'command' | 'response', command?: Uint8Array): string {
  return dir === 'command' ? describeCommand(bytes) : describeResponse(bytes, command);
}
