// @module-tag subprocess
/**
 * Hostile XML: an element with a million attributes and a file of nothing
 * but nested elements are refused at once, by the scanner and through
 * `tokensmith import` (exit 4), instead of taking minutes or gigabytes.
 * Their times are measured by bench/xml-hostile.ts, not asserted here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTES, MAX_DEPTH, XmlScanner } from '../../src/import/xml-scan.js';
import { CliStore } from './helpers.js';

function scan(text: string | Buffer): void {
  const s = new XmlScanner('t.xml', () => true);
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let at = 0; at < b.length; at += 64 * 1024) s.write(b.subarray(at, at + 64 * 1024));
  s.close();
}

const manyAttributes = (n: number) => `<r${Array.from({ length: n }, (_, i) => ` a${i}="1"`).join('')}/>`;

describe('hostile XML', () => {
  it(`an element may have ${MAX_ATTRIBUTES} attributes; one more is refused, naming the element`, () => {
    expect(() => scan(manyAttributes(MAX_ATTRIBUTES))).not.toThrow();
    expect(() => scan(manyAttributes(MAX_ATTRIBUTES + 1))).toThrow(/<r> has more than 256 attributes/);
  });

  it('1,000,000 attributes in one element are refused', () => {
    expect(() => scan(manyAttributes(1_000_000))).toThrow(/more than 256 attributes/);
  });

  it(`elements may nest ${MAX_DEPTH} deep; deeper is refused with the line`, () => {
    expect(() => scan(`${'<a>'.repeat(MAX_DEPTH)}${'</a>'.repeat(MAX_DEPTH)}`)).not.toThrow();
    expect(() => scan('<a>'.repeat(MAX_DEPTH + 1))).toThrow(/t\.xml:1: elements nest more than 64 deep at <a>/);
    // 60 MB of <a> stops at the 65th.
    expect(() => scan(Buffer.alloc(60e6, '<a>'))).toThrow(/nest more than 64 deep/);
  });

  const s = new CliStore();
  afterAll(() => s.cleanup());
  it('through import: exit 4 with the reason, nothing stored', async () => {
    const wide = join(s.dir, 'wide.xml');
    writeFileSync(
      wide,
      `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage${manyAttributes(100_000).slice(2, -2)}/></KeyContainer>`,
    );
    const deep = join(s.dir, 'deep.xml');
    writeFileSync(
      deep,
      `<?xml version="1.0"?>\n<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">${'<a>'.repeat(100_000)}`,
    );
    for (const [file, why] of [
      [wide, /more than 256 attributes/],
      [deep, /nest more than 64 deep/],
    ] as const) {
      const r = await s.run(['import', file, '--format', 'pskc']);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(why);
    }
  });
});
