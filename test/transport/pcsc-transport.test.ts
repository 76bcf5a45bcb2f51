/**
 * PcscTransport over a stand-in nfc-pcsc reader (an EventEmitter): what a
 * long-lived context (the station's bridge) relies on between tokens.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PcscTransport } from '../../src/transport/pcsc.js';
import { CardRemovedError } from '../../src/transport/errors.js';

class FakeReader extends EventEmitter {
  name = 'Fake Reader 00 00';
  autoProcessing = false;
  card: { atr?: Buffer } | null = { atr: Buffer.from('3b8080', 'hex') };
  reader = { close: () => undefined };
  answer: Buffer = Buffer.from('9000', 'hex');
  async transmit(): Promise<Buffer> {
    return this.answer;
  }
  close(): void {}
}

const open = (r: FakeReader) => new PcscTransport({ reader: r as never, atr: Uint8Array.from(r.card!.atr!) });

describe('PcscTransport', () => {
  it('tells its listeners when the token leaves, and a closed transport leaves no listener on the reader', async () => {
    const reader = new FakeReader();
    for (let i = 0; i < 25; i++) await open(reader).close();
    expect(reader.listenerCount('card.off')).toBe(0);

    const t = open(reader);
    let told = 0;
    t.onRemoved(() => told++);
    expect(reader.listenerCount('card.off')).toBe(1);
    reader.emit('card.off', {});
    reader.emit('card.off', {});
    expect(told).toBe(1);
    expect(t.isPresent()).toBe(false);
    await expect(t.transmit(Uint8Array.of(0x80, 0x41, 0, 0))).rejects.toBeInstanceOf(CardRemovedError);
    await t.close();
    expect(reader.listenerCount('card.off')).toBe(0);
  });

  it('an empty answer is a token that left mid-command', async () => {
    const reader = new FakeReader();
    const t = open(reader);
    expect(Buffer.from(await t.transmit(Uint8Array.of(0x80, 0x41, 0, 0))).toString('hex')).toBe('9000');
    reader.answer = Buffer.alloc(0);
    await expect(t.transmit(Uint8Array.of(0x80, 0x41, 0, 0))).rejects.toBeInstanceOf(CardRemovedError);
    expect(t.isPresent()).toBe(false);
    await t.close();
  });
});
