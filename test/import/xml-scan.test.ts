/**
 * The streaming XML reader: the same trees, lines and errors whatever the
 * chunk boundaries (a file arrives in pieces cut anywhere, also inside a
 * tag, an entity or a multi-byte character), and the decoding rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countNewlines, XmlScanner, type XmlItem } from '../../src/import/xml-scan.js';
import { FIXTURES, fixture } from './helpers.js';

type Outcome = { items: XmlItem[] } | { error: string; code: string | undefined };

function read(bytes: Buffer, cuts: number[], wanted: (path: string[]) => boolean = (p) => p.length === 2): Outcome {
  const scanner = new XmlScanner('f.xml', wanted);
  const items: XmlItem[] = [];
  try {
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      scanner.write(bytes.subarray(from, cut));
      items.push(...scanner.items.splice(0));
      from = cut;
    }
    scanner.close();
    items.push(...scanner.items.splice(0));
    return { items };
  } catch (err) {
    return { error: (err as Error).message, code: (err as { code?: string }).code };
  }
}

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomCuts(length: number, rand: () => number, maxPiece: number): number[] {
  const cuts: number[] = [];
  for (let at = 1 + Math.floor(rand() * maxPiece); at < length; at += 1 + Math.floor(rand() * maxPiece)) cuts.push(at);
  return cuts;
}

const xmlFixtures = ['rfc6030', 'pskc-quirks', 'bad', 'csv'].flatMap((dir) =>
  readdirSync(fixture(dir))
    .filter((f) => f.endsWith('.xml'))
    .map((f) => `${dir}/${f}`),
);

describe('XmlScanner', () => {
  it('finds the XML fixtures', () => {
    expect(xmlFixtures.length).toBeGreaterThan(30);
  });

  for (const name of xmlFixtures) {
    it(`${name}: the same trees, lines and errors in one piece, byte by byte and in random pieces`, () => {
      const bytes = readFileSync(`${FIXTURES}/${name}`);
      const whole = read(bytes, []);
      const rand = rng(bytes.length);
      const splits = [
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
        randomCuts(bytes.length, rand, 7),
        randomCuts(bytes.length, rand, 300),
      ];
      for (const cuts of splits) expect(read(bytes, cuts)).toEqual(whole);
      if ('items' in whole) {
        expect(whole.items[0]!.root).toBeDefined();
        expect(whole.items.length).toBeGreaterThan(1);
      }
    });
  }

  it('decodes UTF-8 in names, text and attributes, also when a character is cut in two', () => {
    const xml = Buffer.from(
      '<r xmlns:ü="u"><ü:Größe Name="Weiß &amp; Co" ü:x=\'ä\'>Zürich &lt;3 ✓</ü:Größe><b><![CDATA[a&b <c> ß]]></b></r>',
      'utf8',
    );
    const whole = read(xml, [], (p) => p.length === 2);
    for (let cut = 1; cut < xml.length; cut++) expect(read(xml, [cut], (p) => p.length === 2)).toEqual(whole);
    if (!('items' in whole)) throw new Error(whole.error);
    const [root, size, b] = whole.items;
    expect(root!.root!.attrs).toEqual({ 'xmlns:ü': 'u' });
    expect(size!.node).toMatchObject({
      name: 'Größe',
      prefix: 'ü',
      attrs: { Name: 'Weiß & Co', x: 'ä' },
      text: 'Zürich <3 ✓',
    });
    expect(size!.path).toEqual(['r', 'Größe']);
    expect(b!.node!.text).toBe('a&b <c> ß');
  });

  it('expands character references and refuses any other entity, wherever it is', () => {
    const ok = read(Buffer.from('<r><a t="&#x41;&#66;">&#x263A;&quot;&apos;&gt;</a></r>'), []);
    expect('items' in ok && ok.items[1]!.node).toMatchObject({ attrs: { t: 'AB' }, text: '☺"\'>' });
    // Text that no caller keeps (between wanted elements) is still checked.
    expect(read(Buffer.from('<r>&lol;<a/></r>'), [])).toMatchObject({ code: 'entity-refused' });
    expect(read(Buffer.from('<r><a x="&ext;"/></r>'), [])).toMatchObject({ code: 'entity-refused' });
    expect(read(Buffer.from('<r><a>A & B</a></r>'), [])).toMatchObject({
      error: expect.stringContaining("a bare '&'"),
    });
    for (const ref of ['&#0;', '&#1;', '&#xD800;', '&#xFFFE;', '&#x110000;']) {
      expect(read(Buffer.from(`<r><a>${ref}</a></r>`), []), ref).toMatchObject({
        error: expect.stringContaining('is not a character'),
      });
    }
    expect(read(Buffer.from('<r><a>&#9;&#xA;&#xD;&#xE000;&#x10FFFF;</a></r>'), [])).toMatchObject({
      items: [{}, { node: { text: '\t\n\r\uE000\u{10FFFF}' } }],
    });
    // Outside the root only XML white space may stand: a no-break space or a byte-order mark there is text.
    expect(read(Buffer.from('<r/>\u00a0', 'utf8'), [])).toMatchObject({
      error: expect.stringContaining('text after the root element'),
    });
    expect(read(Buffer.from('<r/>\ufeff', 'utf8'), [])).toMatchObject({
      error: expect.stringContaining('text after the root element'),
    });
  });

  it('names the line of each element and of each error', () => {
    const ok = read(Buffer.from('<r>\n <a>\n  <b/>\n </a>\n\n <a\n  x="1"/>\n</r>\n'), [7, 19]);
    expect('items' in ok && ok.items.map((i) => (i.root ?? i.node)!.line)).toEqual([1, 2, 6]);
    expect(read(Buffer.from('<r>\n<a>\n</b>\n</r>'), [])).toEqual({
      error: 'f.xml:3: </b> closes <a>: the tags are not nested properly',
      code: 'malformed-xml',
    });
    expect(read(Buffer.from('<r>\n<a>\n'), [4])).toEqual({
      error: 'f.xml:3: the XML ends before <a> is closed: the file is truncated; get a complete copy',
      code: 'truncated-xml',
    });
    expect(read(Buffer.from('<r/>\n<r/>'), [])).toMatchObject({
      error: 'f.xml:2: a second root element: an XML file has exactly one',
    });
    expect(read(Buffer.from('<r>\n</r>\ntail'), [])).toMatchObject({ error: 'f.xml:3: text after the root element' });
    expect(read(Buffer.from('\n<!DOCTYPE r [<!ENTITY a "b">]><r/>'), [3])).toMatchObject({
      error: expect.stringMatching(/^f\.xml:2: the file has a DOCTYPE/),
      code: 'doctype-refused',
    });
  });

  it('refuses malformed tags and attributes', () => {
    for (const bad of [
      '<r><a b></a></r>',
      '<r><a b=1/></r>',
      '<r><a b="<"/></r>',
      '<r><a/ ></r>',
      '<r><a b="1"c="2"/></r>',
      '<r></ a></r>',
      '<r><=/></r>',
      '</r>',
    ]) {
      const out = read(Buffer.from(bad), []);
      expect('error' in out, bad).toBe(true);
    }
    expect(read(Buffer.from('<r><a b = "1" c=\'2\' /></r>'), [])).toMatchObject({
      items: [{}, { node: { attrs: { b: '1', c: '2' } } }],
    });
  });

  it('counts line feeds four bytes at a time exactly as one at a time, aligned or not, at every range', () => {
    const rand = rng(42);
    // Bytes near LF in value (0x0a, 0x8a, 0x0b, 0x00, 0xff) are where a word trick would slip.
    const pool = [0x0a, 0x8a, 0x0b, 0x00, 0xff, 0x7f, 0x20, 0x3c];
    for (let round = 0; round < 500; round++) {
      const backing = Buffer.alloc(8 + Math.floor(rand() * 120));
      for (let i = 0; i < backing.length; i++)
        backing[i] = rand() < 0.8 ? pool[Math.floor(rand() * pool.length)]! : Math.floor(rand() * 256);
      const b = backing.subarray(Math.floor(rand() * 4));
      const words = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2) : null;
      const from = Math.floor(rand() * (b.length + 1));
      const to = from + Math.floor(rand() * (b.length - from + 1));
      let expected = 0;
      for (let i = from; i < to; i++) if (b[i] === 0x0a) expected++;
      expect(countNewlines(b, words, from, to), `round ${round}`).toBe(expected);
    }
  });

  it('a start tag longer than a chunk is read the same wherever the chunks end', () => {
    const long = 'x'.repeat(70_000);
    const xml = Buffer.from(`<r><a v="${long}" w='2'/></r>`);
    const whole = read(xml, []);
    expect(whole).toMatchObject({ items: [{}, { node: { name: 'a', attrs: { v: long, w: '2' } } }] });
    for (const cuts of [[100], [100, 69_000], [5, 35_000, 70_010]]) expect(read(xml, cuts)).toEqual(whole);
  });

  /** The outcome read whole, and the same outcome byte by byte (chunk ends change nothing). */
  function readEverywhere(xml: string): Outcome {
    const bytes = Buffer.from(xml, 'utf8');
    const whole = read(bytes, []);
    expect(
      read(
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
      xml,
    ).toEqual(whole);
    return whole;
  }

  it('refuses what XML 1.0 does not allow: an attribute twice, -- in a comment, ]]> in text, a late XML declaration, control characters', () => {
    const refusals: [string, string][] = [
      ['<r>\n<a x="1" y="2" x="3"/></r>', 'f.xml:2: <a> has the attribute x twice: XML allows each attribute once'],
      [
        '<r>\n<p:a xmlns:p="u" xmlns:p="v"/></r>',
        'f.xml:2: <p:a> has the attribute xmlns:p twice: XML allows each attribute once',
      ],
      ['<r>\n<!-- one -- two -->\n</r>', "f.xml:2: '--' inside a comment: XML does not allow it there"],
      ['<r><!-- ends badly --->\n</r>', "f.xml:1: '--' inside a comment: XML does not allow it there"],
      ['<r>\n<a>x ]]> y</a></r>', "f.xml:2: ']]>' in text: outside a CDATA section XML allows it only as ']]&gt;'"],
      [
        '<!-- first -->\n<?xml version="1.0"?><r/>',
        'f.xml:2: an XML declaration (<?xml ...?>) that does not open the file: it may only come first',
      ],
      [
        '<r/>\n<?XML version="1.0"?>',
        'f.xml:2: an XML declaration (<?xml ...?>) that does not open the file: it may only come first',
      ],
      ['<r>\n<a>x\u0001y</a></r>', 'f.xml:2: a control character (U+0001) that XML does not allow in a file'],
      ['<r>\n<a b="\u001f"/></r>', 'f.xml:2: a control character (U+001F) that XML does not allow in a file'],
      [
        '<r>\n<a><![CDATA[\n\u0000]]></a></r>',
        'f.xml:3: a control character (U+0000) that XML does not allow in a file',
      ],
    ];
    for (const [xml, error] of refusals) expect(readEverywhere(xml), xml).toEqual({ error, code: 'malformed-xml' });
    // What is allowed near them.
    const ok = readEverywhere(
      '\n<?xml version="1.0"?>\n<r><!-- a - b --><?xml-stylesheet href="s"?><a p:x="1" q:x="2" t="]]>">]] ]&gt; ]]&gt;</a></r>',
    );
    expect(ok).toMatchObject({ items: [{}, { node: { attrs: { x: '2', t: ']]>' }, text: ']] ]> ]]>' } }] });
  });

  it('normalizes line ends to LF and the white space of attribute values to spaces; references are kept as written', () => {
    const out = readEverywhere(
      '<r><a v="x\ny\tz\r\nw&#10;&#9;" e="\r"><b>one\r\ntwo\rthree&#13;</b><c><![CDATA[p\r\nq]]></c></a></r>',
    );
    if (!('items' in out)) throw new Error(out.error);
    const a = out.items[1]!.node!;
    expect(a.attrs).toEqual({ v: 'x y z w\n\t', e: ' ' });
    expect(a.children.map((c) => c.text)).toEqual(['one\ntwo\nthree\r', 'p\nq']);
  });

  it('an attribute called __proto__ is kept as data, and inherited names are not attributes', async () => {
    const out = read(Buffer.from('<r><a __proto__="p" toString="t"/><b/></r>'), []);
    if (!('items' in out)) throw new Error(out.error);
    const [, a, b] = out.items;
    expect(Object.getPrototypeOf(a!.node!.attrs)).toBe(Object.prototype);
    expect(Object.entries(a!.node!.attrs)).toEqual([
      ['__proto__', 'p'],
      ['toString', 't'],
    ]);
    const { attr } = await import('../../src/import/xml.js');
    expect(attr(a!.node!, '__proto__')).toBe('p');
    expect(attr(b!.node!, 'toString')).toBeUndefined();
    expect(attr(b!.node!, 'constructor')).toBeUndefined();
  });
});

describe('a file cut short', () => {
  for (const name of ['figure2.xml', 'figure7.xml']) {
    it(`every prefix of RFC 6030 ${name}, cut anywhere (inside a tag, a comment, text), says "truncated"`, () => {
      const bytes = readFileSync(fixture('rfc6030', name));
      const said = new Set<string>();
      for (let cut = 2; cut < bytes.length - 1; cut++) {
        const out = read(bytes.subarray(0, cut), []);
        expect('error' in out, `cut at ${cut}`).toBe(true);
        if (!('error' in out)) continue;
        if (!/truncated/.test(out.error)) said.add(`${cut}: ${out.error}`);
        else expect(out.code).toBe('truncated-xml');
      }
      expect([...said]).toEqual([]);
    });
  }
});
