/**
 * Names and values of the streaming XML reader (xml-scan.ts) turned into
 * strings: cached where they repeat, UTF-8 where they hold bytes above 0x7F,
 * entities and character references expanded, forbidden characters refused.
 */
import { AMP, EMPTY, ENTITY, PREDEFINED, splitName, type Bytes, type Name } from './xml-bytes.js';

export class XmlValueReader {
  /** The scanner's current buffer; it sets this on every chunk. */
  buf: Bytes = EMPTY as Bytes;
  /** Names seen so far, by a hash of their bytes: a file uses a few dozen, thousands of times each. */
  private readonly nameCache: (Name | undefined)[] = new Array<Name | undefined>(1024);
  /** Short values seen lately, by a hash of their bytes. */
  private readonly valueCache: (string | undefined)[] = new Array<string | undefined>(1024);

  constructor(
    /** Fails naming the line of buf[at]. */
    private readonly failAt: (at: number, message: string, code?: string) => never,
    /** Fails at the scanner's position. */
    private readonly fail: (message: string, code?: string) => never,
  ) {}

  /** The name in buf[from, to), from the cache when it was seen before. */
  nameAt(from: number, to: number): Name {
    const b = this.buf;
    const n = to - from;
    const slot = (b[from]! * 31 + b[to - 1]! * 7 + n * 131) & 1023;
    const hit = this.nameCache[slot];
    if (hit !== undefined && hit.raw.length === n) {
      const raw = hit.raw;
      let k = 0;
      while (k < n && raw.charCodeAt(k) === b[from + k]) k++;
      if (k === n) return hit;
    }
    const raw = b.latin1Slice(from, to);
    let high = false;
    for (let k = from; k < to; k++) if (b[k]! > 0x7f) high = true;
    const name = splitName(raw, high ? b.utf8Slice(from, to) : raw);
    this.nameCache[slot] = name;
    return name;
  }

  /**
   * A value in buf[from, to): UTF-8 where it holds bytes above 0x7F, entities
   * expanded. Text (inText) or an attribute value: they differ in their
   * white space (see normalized).
   */
  valueAt(from: number, to: number, inText: boolean): string {
    const b = this.buf;
    let high = false;
    let amp = false;
    let special = false;
    for (let k = from; k < to; k++) {
      const c = b[k]!;
      if (c > 0x7f) high = true;
      else if (c === AMP) amp = true;
      else if (c < 0x20 || c === 0x5d) special = true;
    }
    if (special) return this.normalized(from, to, inText, high, amp);
    if (high) {
      const v = b.utf8Slice(from, to);
      return amp ? this.decode(v) : v;
    }
    if (amp) return this.decode(b.latin1Slice(from, to));
    const n = to - from;
    if (n === 0 || n > 64) return b.latin1Slice(from, to);
    // Short ASCII values repeat (algorithm URIs, lengths, intervals, manufacturers): made into strings once.
    const slot = (b[from]! * 31 + b[to - 1]! * 7 + b[from + (n >> 1)]! * 17 + n * 131) & 1023;
    const hit = this.valueCache[slot];
    if (hit !== undefined && hit.length === n) {
      let k = 0;
      while (k < n && hit.charCodeAt(k) === b[from + k]) k++;
      if (k === n) return hit;
    }
    const v = b.latin1Slice(from, to);
    this.valueCache[slot] = v;
    return v;
  }

  /**
   * valueAt's way for a value holding a control byte or ']': the control
   * characters XML forbids and ']]>' in text are refused; line ends become
   * LF (XML 1.0 2.11), and in an attribute each tab, LF or CR becomes a space
   * (3.3.3); character references are expanded after, so &#10; stays a LF.
   */
  private normalized(from: number, to: number, inText: boolean, high: boolean, amp: boolean): string {
    const cr = this.checkChars(from, to, inText);
    const b = this.buf;
    let v = high ? b.utf8Slice(from, to) : b.latin1Slice(from, to);
    if (cr) v = v.replace(/\r\n?/g, '\n');
    if (!inText) v = v.replace(/[\t\n\r]/g, ' ');
    return amp ? this.decode(v) : v;
  }

  /**
   * Refuses, at the first one, the C0 control characters XML forbids in buf[from, to) (all but tab,
   * LF and CR) and, in text, ']]>'; returns whether a CR is there (its line ends need normalizing).
   */
  checkChars(from: number, to: number, inText: boolean): boolean {
    const b = this.buf;
    let cr = false;
    for (let k = from; k < to; k++) {
      const c = b[k]!;
      if (c === 0x5d) {
        if (inText && k + 2 < to && b[k + 1] === 0x5d && b[k + 2] === 0x3e)
          this.failAt(k, "']]>' in text: outside a CDATA section XML allows it only as ']]&gt;'");
      } else if (c < 0x20 && c !== 0x0a && c !== 0x09) {
        if (c !== 0x0d)
          this.failAt(
            k,
            `a control character (U+${c.toString(16).toUpperCase().padStart(4, '0')}) that XML does not allow in a file`,
          );
        cr = true;
      }
    }
    return cr;
  }

  private decode(s: string): string {
    return s.replace(ENTITY, (whole, ref: string | undefined) => {
      if (ref === undefined) this.fail("a bare '&': write &amp;");
      if (ref[0] === '#') {
        const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        // XML's Char: tab, LF, CR, and the rest of Unicode but the other controls, surrogates, FFFE and FFFF.
        const isChar =
          cp === 0x9 ||
          cp === 0xa ||
          cp === 0xd ||
          (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) ||
          (cp >= 0x10000 && cp <= 0x10ffff);
        if (!isChar) this.fail(`character reference ${whole} is not a character XML allows`);
        return String.fromCodePoint(cp);
      }
      const v = PREDEFINED[ref];
      if (v === undefined)
        this.fail(
          `entity ${whole} is not one of XML's five (&lt; &gt; &amp; &quot; &apos;): tokensmith expands no other entity`,
          'entity-refused',
        );
      return v;
    });
  }
}
