/**
 * One XML start tag read from the scanner's bytes: its name, its attributes
 * (each once, at most MAX_ATTRIBUTES, values decoded and checked) and whether
 * it closes itself. Split from xml-scan.ts, which keeps the nesting and trees.
 */
import { GT, isNameByte, isSpace, LT, MAX_ATTRIBUTES, SLASH, type Bytes, type Name } from './xml-bytes.js';
import type { XmlValueReader } from './xml-values.js';

/** A start tag that cannot be judged yet: the chunk ends inside it. */
export const INCOMPLETE = -1;
export const MALFORMED = -2;

const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A raw (latin1) name as people read it. */
export function shown(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

export class StartTagReader {
  tag: Name | null = null;
  attrs: Record<string, string> = NO_ATTRS;
  selfClosing = false;
  /** Why read() found the tag malformed, when it can say more than that (set only just before the scanner fails). */
  problem: string | null = null;
  /** The raw names of the tag's attributes so far (the first attrCount), to refuse one written twice. */
  private readonly attrNames: string[] = [];
  private attrCount = 0;

  constructor(private readonly values: XmlValueReader) {}

  /**
   * Reads the start tag at `lt` of `b` into tag / attrs / selfClosing and
   * returns the position after it; INCOMPLETE when the buffer ends inside
   * it, MALFORMED when it is not a start tag.
   */
  read(b: Bytes, lt: number): number {
    const len = b.length;
    let i = lt + 1;
    while (i < len && isNameByte(b[i]!)) i++;
    if (i >= len) return INCOMPLETE;
    if (i === lt + 1) return MALFORMED;
    this.tag = this.values.nameAt(lt + 1, i);
    this.attrCount = 0;
    let attrs = NO_ATTRS;
    for (;;) {
      const before = i;
      while (i < len && isSpace(b[i]!)) i++;
      if (i >= len) return INCOMPLETE;
      const c = b[i]!;
      if (c === GT) {
        this.attrs = attrs;
        this.selfClosing = false;
        return i + 1;
      }
      if (c === SLASH) {
        if (i + 1 >= len) return INCOMPLETE;
        if (b[i + 1] !== GT) return MALFORMED;
        this.attrs = attrs;
        this.selfClosing = true;
        return i + 2;
      }
      // An attribute: name = "value" or 'value', after white space.
      if (i === before) return MALFORMED;
      const nameStart = i;
      while (i < len && isNameByte(b[i]!)) i++;
      if (i >= len) return INCOMPLETE;
      if (i === nameStart) return MALFORMED;
      const nameEnd = i;
      while (i < len && isSpace(b[i]!)) i++;
      if (i >= len) return INCOMPLETE;
      if (b[i] !== 0x3d /* = */) return MALFORMED;
      i++;
      while (i < len && isSpace(b[i]!)) i++;
      if (i >= len) return INCOMPLETE;
      const q = b[i]!;
      if (q !== 0x22 && q !== 0x27) return MALFORMED;
      const valueStart = i + 1;
      i = valueStart;
      while (i < len && b[i] !== q) {
        if (b[i] === LT) return MALFORMED;
        i++;
      }
      if (i >= len) return INCOMPLETE;
      if (attrs === NO_ATTRS) attrs = {};
      const attrName = this.values.nameAt(nameStart, nameEnd);
      for (let k = 0; k < this.attrCount; k++) {
        if (this.attrNames[k] === attrName.raw) {
          this.problem = `<${shown(this.tag.raw)}> has the attribute ${shown(attrName.raw)} twice: XML allows each attribute once`;
          return MALFORMED;
        }
      }
      if (this.attrCount >= MAX_ATTRIBUTES) {
        this.problem = `<${shown(this.tag.raw)}> has more than ${MAX_ATTRIBUTES} attributes: no seed file needs that many, so the file is refused as hostile or broken`;
        return MALFORMED;
      }
      this.attrNames[this.attrCount++] = attrName.raw;
      const key = attrName.attrKey;
      const value = this.values.valueAt(valueStart, i, false);
      // An attribute called __proto__ is data like any other, not the object's prototype.
      if (key === '__proto__')
        Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
      else attrs[key] = value;
      i++;
    }
  }
}
