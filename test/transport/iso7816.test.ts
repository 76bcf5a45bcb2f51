/**
 * The ISO 7816 layer under the APDU drivers: 61xx answered with GET RESPONSE
 * in the class the family uses, 6Cxx resent once with the right Le, and the
 * describers naming the GET RESPONSE the drivers actually send (80 C0, which
 * the Token2 describer used to call an unknown command).
 */
import { describe, expect, it } from 'vitest';
import { exchange, isoStatusText, splitAnswer } from '../../src/transport/iso7816.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { describeFrame as describeToken2 } from '../../drivers/token2-nfc/describe.js';
import { describeFrame as describeMolto2 } from '../../drivers/token2-molto2/describe.js';
import { describeFrame as describeProtectimus } from '../../drivers/protectimus/describe.js';
import { ProtectimusDriver } from '../../drivers/protectimus/driver.js';
import { ProtectimusSimulator } from '../../drivers/protectimus/simulator.js';
import { Molto2Driver } from '../../drivers/token2-molto2/driver.js';
import { Token2Driver } from '../../drivers/token2-nfc/driver.js';
import { Token2Simulator } from '../../drivers/token2-nfc/simulator.js';
import { Molto2Simulator } from '../../drivers/token2-molto2/simulator.js';
import { toHex as hex } from '../helpers/bytes.js';

const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

/** A device that answers from a script and logs what it was sent. */
function scripted(answers: Record<string, string>) {
  const sent: string[] = [];
  const device = {
    atr: Uint8Array.of(0x3b, 0x00),
    process: (apdu: Uint8Array) => (sent.push(hex(apdu)), bytes(answers[hex(apdu)] ?? '6d00')),
  };
  return { transport: new MemoryTransport(device), sent };
}

describe('exchange', () => {
  it('61xx: GET RESPONSE in the class family of the command (80 after 84), until 9000, data joined', async () => {
    const { transport, sent } = scripted({
      '84c50100021122': '6103',
      '80c0000003': 'aabbcc6102',
      '80c0000002': 'dd ee 9000',
    });
    const r = await exchange(transport, bytes('84c50100021122'));
    expect(sent).toEqual(['84c50100021122', '80c0000003', '80c0000002']);
    expect(hex(r.data)).toBe('aabbccddee');
    expect(r.sw).toBe(0x9000);
    expect(r.transmits).toBe(3);
  });

  it('61xx with a fixed class: GET RESPONSE goes as 00 C0', async () => {
    const { transport, sent } = scripted({ '8041000000': '6101', '00c0000001': '7f9000' });
    const r = await exchange(transport, bytes('8041000000'), { getResponseClass: 0x00 });
    expect(sent).toEqual(['8041000000', '00c0000001']);
    expect(hex(r.data)).toBe('7f');
  });

  it('6Cxx: a bare header + Le command is sent once more with the Le the token asked for', async () => {
    const { transport, sent } = scripted({ '804b080000': '6c08', '804b080008': '01020304050607089000' });
    const r = await exchange(transport, bytes('804b080000'));
    expect(sent).toEqual(['804b080000', '804b080008']);
    expect(r.data.length).toBe(8);
  });

  it('6Cxx on a command that carries data is not resent (it would change meaning)', async () => {
    const { transport, sent } = scripted({ '804b08000100': '6c08' });
    const r = await exchange(transport, bytes('804b08000100'));
    expect(sent).toEqual(['804b08000100']);
    expect(r.sw).toBe(0x6c08);
  });

  it('an answer without a status word is a device error naming it', () => {
    expect(() => splitAnswer(Uint8Array.of(0x90))).toThrow(/answer of 1 byte\(s\) has no status word/);
    expect(isoStatusText(0x6102)).toMatch(/2 more bytes/);
  });
});

describe('describers agree with what the drivers send', () => {
  it('Token2 NFC: 80 C0 is GET RESPONSE', () => {
    expect(describeToken2(bytes('80c0000005'), 'command')).toMatch(/^GET RESPONSE/);
  });
  it('Molto2: 80 C0 is GET RESPONSE', () => {
    expect(describeMolto2(bytes('80c0000005'), 'command')).toMatch(/^GET RESPONSE/);
  });

  it('every describer names the class byte the driver actually sent (80 C0 for the Token2 families, 00 C0 for the reader UID read)', async () => {
    // What the drivers send after a 61xx, taken from the wire rather than written here.
    const token2 = await getResponseSentBy(
      (t) => new Token2Driver(t).readInfo(),
      new Token2Simulator({ model: 'token2-card' }),
      0x41,
    );
    const molto2 = await getResponseSentBy((t) => new Molto2Driver(t).readInfo(), new Molto2Simulator({}), 0x41);
    const uid = await getResponseSentBy((t) => new ProtectimusDriver(t).readUid(), new ProtectimusSimulator({}), 0xca);
    expect([token2, molto2, uid].map((a) => hex(a.subarray(0, 2)))).toEqual(['80c0', '80c0', '00c0']);
    expect(describeToken2(token2, 'command')).toBe(`GET RESPONSE 80 C0, Le ${token2[4]}`);
    expect(describeMolto2(molto2, 'command')).toBe(`GET RESPONSE 80 C0, Le ${molto2[4]}`);
    expect(describeProtectimus(uid, 'command')).toBe(`GET RESPONSE 00 C0, Le ${uid[4]}`);
  });
});

/** Runs `op` against `sim` with the answer to INS `ins` split by 61xx; returns the GET RESPONSE the driver sent. */
async function getResponseSentBy(
  op: (t: MemoryTransport) => Promise<unknown>,
  sim: { atr: Uint8Array; process(a: Uint8Array): Uint8Array },
  ins: number,
): Promise<Uint8Array> {
  let held: Uint8Array | null = null;
  let sent: Uint8Array | null = null;
  const device = {
    atr: sim.atr,
    process(apdu: Uint8Array) {
      if (apdu[1] === 0xc0 && held) return ((sent = Uint8Array.from(apdu)), Uint8Array.from([...held, 0x90, 0x00]));
      const answer = sim.process(apdu);
      if (apdu[1] !== ins || held) return answer;
      held = answer.subarray(0, answer.length - 2);
      return Uint8Array.of(0x61, held.length);
    },
  };
  await op(new MemoryTransport(device));
  if (!sent) throw new Error('the driver sent no GET RESPONSE');
  return sent;
}

describe('the Molto2 driver goes through the same layer', () => {
  it('an info answer split by 61xx is fetched with 80 C0 and parsed (it used to fail on status 61xx)', async () => {
    const sim = new Molto2Simulator({ serial: '2310000077' });
    let held: Uint8Array | null = null;
    const sent: string[] = [];
    const device = {
      atr: sim.atr,
      process(apdu: Uint8Array) {
        sent.push(hex(apdu.subarray(0, 2)));
        if (apdu[1] === 0xc0 && held) return Uint8Array.from([...held, 0x90, 0x00]);
        const answer = sim.process(apdu);
        if (apdu[1] !== 0x41 || apdu[3] !== 0x00 || held) return answer;
        held = answer.subarray(0, answer.length - 2);
        return Uint8Array.of(0x61, held.length);
      },
    };
    const info = await new Molto2Driver(new MemoryTransport(device)).readInfo();
    expect(info.serial).toBe('2310000077');
    expect(sent).toEqual(['8041', '80c0']);
  });
});
