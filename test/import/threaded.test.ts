// @module-tag subprocess
/**
 * Large files go through the worker thread (files of 2 MB and more, built
 * CLI): the same results, the same errors with exit 4, nothing written on failure.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSamplePskc, type SampleToken } from '../../src/import/sample.js';
import { base32ToHex, CliStore } from './helpers.js';

const N = 2600;
let s: CliStore;
let file: string;
let tokens: SampleToken[];

beforeAll(() => {
  s = new CliStore();
  file = join(s.dir, 'large.pskc.xml');
  tokens = Array.from({ length: N }, (_, i) => ({
    serial: `LARGE${String(i).padStart(5, '0')}`,
    seed: randomBytes(20),
    type: i % 2 ? 'hotp' : 'totp',
    digits: i % 3 ? 6 : 8,
    period: 60,
    counter: i,
  }));
  writeSamplePskc(file, 'large-file-password', tokens, 'Bench');
  // Padding in a comment lifts the file over the worker threshold without more tokens.
  appendFileSync(file, `<!-- ${'x'.repeat(2 * 1024 * 1024)} -->\n`);
  expect(statSync(file).size).toBeGreaterThan(2 * 1024 * 1024);
});
afterAll(() => s.cleanup());

describe('a large file through the worker thread', () => {
  it('a wrong password: exit 4, one clear message, nothing written', async () => {
    const r = await s.run(['import', file, '--password', 'wrong']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/large\.pskc\.xml:\d+ \(key package 1\).*wrong password or key/);
    expect(await s.json(['tokens', 'list'])).toEqual([]);
  });

  it('a tampered value deep in the file is reported by key package and serial; nothing written', async () => {
    const bad = join(s.dir, 'tampered.pskc.xml');
    const text = readFileSync(file, 'utf8');
    const i = text.indexOf('<pskc:ValueMAC>', text.indexOf('LARGE02000'));
    writeFileSync(bad, text.slice(0, i + 15) + (text[i + 15] === 'A' ? 'B' : 'A') + text.slice(i + 16));
    const r = await s.run(['--json', 'import', bad, '--password', 'large-file-password']);
    expect(r.code).toBe(4);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ batch: null, imported: 0, failed: 1 });
    expect(j.errors[0].where).toMatch(/\(key package 2001\) serial LARGE02000$/);
    expect(await s.json(['tokens', 'list'])).toEqual([]);
  });

  it('imports every token exactly', async () => {
    const r = await s.json(['import', file, '--password', 'large-file-password']);
    expect(r).toEqual({ batch: r.batch, imported: N, skipped: 0, failed: 0, errors: [] });
    for (const i of [0, 1, 1299, N - 1]) {
      const t = tokens[i]!;
      const v = await s.json(['tokens', 'show', t.serial, '--show-secret']);
      expect(base32ToHex(v.secret)).toBe(t.seed.toString('hex'));
      expect(v).toMatchObject({ type: t.type, digits: t.digits, manufacturer: 'Bench' });
      if (t.type === 'hotp') expect(v.counter).toBe(t.counter);
      else expect(v.period).toBe(60);
    }
  });

  it('a parse given up after seeds arrived wipes them: cancelled before reading, and abandoned after one batch', async () => {
    // The built module: the worker runs compiled JavaScript.
    const built = '../../dist/src/import/threaded.js';
    const { parseInWorker } = (await import(built)) as typeof import('../../src/import/threaded.js');
    const arrived: Uint8Array[] = [];
    const emit = Worker.prototype.emit;
    // Every batch of seeds that reaches this thread, seen as the worker delivers it.
    Worker.prototype.emit = function (this: Worker, event: string | symbol, ...args: unknown[]) {
      const m = args[0] as { type?: string; records?: { seeds: ArrayBuffer } };
      if (event === 'message' && m?.type === 'items') arrived.push(new Uint8Array(m.records!.seeds));
      return emit.call(this, event, ...args);
    } as typeof emit;
    try {
      const ctx = { fileName: 'large.pskc.xml', password: 'large-file-password' };
      const waitFor = async (n: number) => {
        for (let t = 0; t < 200 && arrived.length < n; t++) await new Promise((r) => setTimeout(r, 50));
        expect(arrived.length).toBeGreaterThanOrEqual(n);
      };
      // Cancelled while batches wait unread (the import does this when the file was imported before).
      const cancelled = parseInWorker('pskc', file, ctx);
      await waitFor(2);
      expect(arrived.some((b) => b.some((x) => x !== 0))).toBe(true);
      await cancelled.cancel();
      expect(arrived.filter((b) => b.some((x) => x !== 0))).toHaveLength(0);

      // One batch read, then the loop stops (an error in the caller): the batches still queued are wiped.
      arrived.length = 0;
      const abandoned = parseInWorker('pskc', file, ctx).batches()[Symbol.asyncIterator]();
      const first = await abandoned.next();
      expect(first.done).toBe(false);
      await waitFor(3);
      await abandoned.return!(undefined);
      const stillClear = arrived.filter((b) => b.some((x) => x !== 0));
      // Only the batch the caller holds is left to the caller (the import's writer wipes what it took).
      expect(stillClear.length).toBeLessThanOrEqual(1);
      expect(
        stillClear.every((b) =>
          (first.value as { record?: { seed: Buffer } }[]).some((i) => i.record && i.record.seed.buffer === b.buffer),
        ),
      ).toBe(true);
    } finally {
      Worker.prototype.emit = emit;
    }
  });
});
