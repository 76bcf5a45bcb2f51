/**
 * A streaming XML reader for seed files: tags, attributes, text, CDATA,
 * comments and processing instructions, with well-formedness checks
 * (nesting, one root, no stray text) and the five predefined entities and
 * character references. A DOCTYPE is refused as soon as `<!DOCTYPE` is seen,
 * so no entity is ever declared, expanded or fetched.
 *
 * The tokenizer and the tree builder are one loop: the elements the caller
 * wants (one key package, one token) come out as small trees, everything
 * else is checked and passed over. It reads the file's bytes as they are:
 * the markup is ASCII, so only the names, text and attribute values it
 * keeps are turned into strings (UTF-8 where they hold bytes above 0x7F),
 * and the few element names a file uses are made into strings once. It
 * exists because a general SAX parser spent most of the time of a
 * 100,000-token import.
 */
import { DataError } from '../core/errors.js';

export interface XmlNode {
  /** Local name, prefix stripped (PSKC files use odd prefixes or none). */
  name: string;
  /** The local name in lower case, for the case-insensitive lookups legacy files need. */
  lower: string;
  prefix: string;
  /** Attributes by local name (xmlns declarations kept as "xmlns" / "xmlns:p"). Shared and frozen when there are none: read only. */
  attrs: Record<string, string>;
  /** Read only (shared and frozen when there are none). */
  children: XmlNode[];
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

export type XmlItem = { root: XmlNode; node?: undefined; path?: undefined } | { node: XmlNode; path: string[]; root?: undefined };

const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;
/** The children of a leaf: shared and frozen (most elements are leaves); a node gets its own array with its first child. */
const NO_CHILDREN: XmlNode[] = Object.freeze([]) as unknown as XmlNode[];
const EMPTY = Buffer.alloc(0);
const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);|&/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** A construct longer than this without its end is not a seed file. */
const MAX_PENDING = 4 * 1024 * 1024;
/** Seed files use a handful of attributes per element; past this a tag is an attack (the duplicate check is quadratic in it). */
export const MAX_ATTRIBUTES = 256;
/** PSKC nests about ten deep; past this every open element costs memory for nothing (60 MB of <a> once took 3.8 GB). */
export const MAX_DEPTH = 64;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const AMP = 0x26;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Name bytes: anything but XML white space and / > = < " ' ! ? */
function isNameByte(c: number): boolean {
  if (c > 0x3f) return true;
  return !(c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x2f || c === 0x3e || c === 0x3d || c === 0x3c || c === 0x22 || c === 0x27 || c === 0x21 || c === 0x3f);
}

/** Buffer's own string makers, without the argument checks of toString (the offsets here are always in range). */
type Bytes = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

/** A name as written (raw: its bytes as latin1, for comparing with a closing tag) and split at its prefix. */
interface Name {
  raw: string;
  name: string;
  lower: string;
  prefix: string;
  /** As an attribute key: the local name, but namespace declarations (xmlns, xmlns:p) whole. */
  attrKey: string;
}

function splitName(raw: string, decoded: string): Name {
  const colon = decoded.indexOf(':');
  const name = colon < 0 ? decoded : decoded.slice(colon + 1);
  return { raw, name, lower: name.toLowerCase(), prefix: colon < 0 ? '' : decoded.slice(0, colon), attrKey: colon < 0 || decoded.startsWith('xmlns') ? decoded : name };
}

/**
 * The number of LF bytes in b[from, to). Four bytes at a time where the
 * buffer is word-aligned: a byte of w ^ 0x0a0a0a0a is zero exactly where w
 * holds an LF, and the zero bytes of a word are counted without a branch.
 */
export function countNewlines(b: Uint8Array, words: Uint32Array | null, from: number, to: number): number {
  let n = 0;
  let i = from;
  if (words !== null) {
    while (i < to && (i & 3) !== 0) if (b[i++] === 0x0a) n++;
    const end = Math.min(to >>> 2, words.length);
    for (let w = i >>> 2; w < end; w++) {
      const x = words[w]! ^ 0x0a0a0a0a;
      // High bit of each byte: set where the byte is not zero.
      const t = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
      n += Math.imul((t ^ 0x80808080) >>> 7, 0x01010101) >>> 24;
    }
    if (end << 2 > i) i = end << 2;
  }
  for (; i < to; i++) if (b[i] === 0x0a) n++;
  return n;
}

/** A start tag that cannot be judged yet: the chunk ends inside it. */
const INCOMPLETE = -1;
const MALFORMED = -2;

export class XmlScanner {
  private buf: Bytes = EMPTY as Bytes;
  /** The buffer as 32-bit words, for counting lines four bytes at a time (null when it does not start on a word). */
  private words: Uint32Array | null = null;
  private pos = 0;
  /** Line of `lineCountedTo` (1-based). */
  private lineNo = 1;
  private lineCountedTo = 0;
  /** Open elements as written: a closing tag is compared with the top byte for byte. */
  private readonly stack: string[] = [];
  /** Local names from the root down, for `wanted`. */
  private readonly names: string[] = [];
  /** The trees being built; empty outside a wanted element. */
  private readonly building: XmlNode[] = [];
  private buildingDepth = -1;
  private rootSeen = false;
  private rootClosed = false;
  /** Names seen so far, by a hash of their bytes: a file uses a few dozen, thousands of times each. */
  private readonly nameCache: (Name | undefined)[] = new Array<Name | undefined>(1024);
  /** Short values seen lately, by a hash of their bytes. */
  private readonly valueCache: (string | undefined)[] = new Array<string | undefined>(1024);
  /** Finished items, in document order; the caller takes them after each write. */
  readonly items: XmlItem[] = [];
  // The start tag just read (readStartTag).
  private tag: Name | null = null;
  private tagAttrs: Record<string, string> = NO_ATTRS;
  private tagSelfClosing = false;
  /** The raw names of the start tag's attributes so far (the first attrCount), to refuse one written twice. */
  private readonly attrNames: string[] = [];
  private attrCount = 0;
  /** Why readStartTag found the tag malformed, when it can say more than that (set only just before the scanner fails). */
  private tagProblem: string | null = null;
  /** Whether a comment, processing instruction or element came before: an XML declaration must come first. */
  private started = false;

  constructor(
    private readonly fileName: string,
    /** Whether the element at this path of local names (root first) is wanted as a tree. */
    private readonly wanted: (path: string[]) => boolean,
  ) {}

  /** The line of the current position. */
  get line(): number {
    return this.lineAt(this.pos);
  }

  private lineAt(p: number): number {
    if (p > this.lineCountedTo) {
      this.lineNo += countNewlines(this.buf, this.words, this.lineCountedTo, p);
      this.lineCountedTo = p;
    }
    return this.lineNo;
  }

  /** Fails naming the line of buf[at]. */
  private failAt(at: number, message: string, code = 'malformed-xml'): never {
    if (at > this.pos) this.pos = at;
    this.fail(message, code);
  }

  private fail(message: string, code = 'malformed-xml'): never {
    const where = `${this.fileName}:${this.line}`;
    throw new DataError(`${where}: ${message}`, { code, where });
  }

  /** Reads the next part of the file. */
  write(chunk: Buffer): void {
    this.lineAt(this.pos);
    this.buf = (this.pos >= this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk])) as Bytes;
    this.words = this.buf.byteOffset % 4 === 0 ? new Uint32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >>> 2) : null;
    this.lineCountedTo = 0;
    this.pos = 0;
    this.scan(false);
    if (this.buf.length - this.pos > MAX_PENDING) this.fail('a tag or text runs on for megabytes without ending: this is not a seed file');
  }

  close(): void {
    this.scan(true);
    if (this.stack.length > 0) {
      this.fail(`the XML ends before <${this.shown(this.stack[this.stack.length - 1]!)}> is closed: the file is truncated; get a complete copy`, 'truncated-xml');
    }
    if (!this.rootSeen) this.fail('no XML element in the file', 'not-xml');
  }

  /** A raw (latin1) name as people read it. */
  private shown(raw: string): string {
    return Buffer.from(raw, 'latin1').toString('utf8');
  }

  private scan(final: boolean): void {
    const b = this.buf;
    const len = b.length;
    for (;;) {
      let lt = this.pos;
      // Indentation between tags is passed over here; anything else up to the next '<' is text.
      while (lt < len && isSpace(b[lt]!)) lt++;
      if (lt < len && b[lt] !== LT) {
        while (lt < len && b[lt] !== LT) lt++;
        if (lt < len || final) this.takeText(this.pos, lt);
      }
      if (lt >= len) {
        // Text (or white space that may start one) can go on in the next chunk: kept until then.
        if (final) this.pos = len;
        return;
      }
      this.pos = lt;
      if (lt + 1 >= len) {
        if (final) this.fail('the file ends inside a tag: it is truncated', 'truncated-xml');
        return;
      }
      const next = b[lt + 1]!;
      if (next === SLASH) {
        if (!this.closeTag(lt, final)) return;
        continue;
      }
      if (next === 0x3f /* ? */) {
        const end = b.indexOf('?>', lt + 2, 'latin1');
        if (end < 0) {
          if (final) this.fail('an unterminated processing instruction', 'truncated-xml');
          return;
        }
        // The target "xml" (any case) is the XML declaration, and it may only open the file.
        if (this.started && end >= lt + 5 && (b[lt + 2]! | 0x20) === 0x78 && (b[lt + 3]! | 0x20) === 0x6d && (b[lt + 4]! | 0x20) === 0x6c && (end === lt + 5 || isSpace(b[lt + 5]!))) {
          this.fail('an XML declaration (<?xml ...?>) that does not open the file: it may only come first');
        }
        this.started = true;
        this.pos = end + 2;
        continue;
      }
      if (next === 0x21 /* ! */) {
        if (!this.markup(lt, final)) return;
        continue;
      }
      const end = this.readStartTag(lt);
      if (end < 0) {
        // A tag the chunk ends inside waits for the next one, however long (write() bounds what is pending).
        if (end === INCOMPLETE && !final) return;
        if (this.tagProblem !== null) this.fail(this.tagProblem);
        this.fail('a malformed start tag', final ? 'truncated-xml' : 'malformed-xml');
      }
      this.started = true;
      if (this.rootClosed) this.fail('a second root element: an XML file has exactly one');
      const line = this.lineAt(lt);
      this.pos = end;
      this.openElement(this.tag!, this.tagAttrs, line, this.tagSelfClosing);
    }
  }

  /** The name in buf[from, to), from the cache when it was seen before. */
  private nameAt(from: number, to: number): Name {
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
  private valueAt(from: number, to: number, inText: boolean): string {
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
  private checkChars(from: number, to: number, inText: boolean): boolean {
    const b = this.buf;
    let cr = false;
    for (let k = from; k < to; k++) {
      const c = b[k]!;
      if (c === 0x5d) {
        if (inText && k + 2 < to && b[k + 1] === 0x5d && b[k + 2] === 0x3e) this.failAt(k, "']]>' in text: outside a CDATA section XML allows it only as ']]&gt;'");
      } else if (c < 0x20 && c !== 0x0a && c !== 0x09) {
        if (c !== 0x0d) this.failAt(k, `a control character (U+${c.toString(16).toUpperCase().padStart(4, '0')}) that XML does not allow in a file`);
        cr = true;
      }
    }
    return cr;
  }

  /**
   * Reads the start tag at `lt` into tag / tagAttrs / tagSelfClosing and
   * returns the position after it; INCOMPLETE when the buffer ends inside
   * it, MALFORMED when it is not a start tag.
   */
  private readStartTag(lt: number): number {
    const b = this.buf;
    const len = b.length;
    let i = lt + 1;
    while (i < len && isNameByte(b[i]!)) i++;
    if (i >= len) return INCOMPLETE;
    if (i === lt + 1) return MALFORMED;
    this.tag = this.nameAt(lt + 1, i);
    this.attrCount = 0;
    let attrs = NO_ATTRS;
    for (;;) {
      const before = i;
      while (i < len && isSpace(b[i]!)) i++;
      if (i >= len) return INCOMPLETE;
      const c = b[i]!;
      if (c === GT) {
        this.tagAttrs = attrs;
        this.tagSelfClosing = false;
        return i + 1;
      }
      if (c === SLASH) {
        if (i + 1 >= len) return INCOMPLETE;
        if (b[i + 1] !== GT) return MALFORMED;
        this.tagAttrs = attrs;
        this.tagSelfClosing = true;
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
      const attrName = this.nameAt(nameStart, nameEnd);
      for (let k = 0; k < this.attrCount; k++) {
        if (this.attrNames[k] === attrName.raw) {
          this.tagProblem = `<${this.shown(this.tag.raw)}> has the attribute ${this.shown(attrName.raw)} twice: XML allows each attribute once`;
          return MALFORMED;
        }
      }
      if (this.attrCount >= MAX_ATTRIBUTES) {
        this.tagProblem = `<${this.shown(this.tag.raw)}> has more than ${MAX_ATTRIBUTES} attributes: no seed file needs that many, so the file is refused as hostile or broken`;
        return MALFORMED;
      }
      this.attrNames[this.attrCount++] = attrName.raw;
      const key = attrName.attrKey;
      const value = this.valueAt(valueStart, i, false);
      // An attribute called __proto__ is data like any other, not the object's prototype.
      if (key === '__proto__') Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
      else attrs[key] = value;
      i++;
    }
  }

  private openElement(tag: Name, attrs: Record<string, string>, line: number, selfClosing: boolean): void {
    const { name, lower, prefix } = tag;
    if (this.stack.length >= MAX_DEPTH) this.fail(`elements nest more than ${MAX_DEPTH} deep at <${this.shown(tag.raw)}>: no seed file nests that deep, so the file is refused as hostile or broken`, 'too-deep');
    this.names.push(name);
    if (!this.rootSeen) {
      this.rootSeen = true;
      this.items.push({ root: { name, lower, prefix, attrs, children: NO_CHILDREN, text: '', line } });
    } else if (this.building.length > 0) {
      const node: XmlNode = { name, lower, prefix, attrs, children: NO_CHILDREN, text: '', line };
      const parent = this.building[this.building.length - 1]!;
      if (parent.children === NO_CHILDREN) parent.children = [node];
      else parent.children.push(node);
      this.building.push(node);
    } else if (this.wanted(this.names)) {
      this.building.push({ name, lower, prefix, attrs, children: NO_CHILDREN, text: '', line });
      this.buildingDepth = this.names.length;
    }
    this.stack.push(tag.raw);
    if (selfClosing) this.closeElement();
  }

  private closeElement(): void {
    this.stack.pop();
    if (this.building.length > 0) {
      const done = this.building.pop()!;
      if (this.building.length === 0 && this.names.length === this.buildingDepth) this.items.push({ node: done, path: [...this.names] });
    }
    this.names.pop();
    if (this.stack.length === 0) this.rootClosed = true;
  }

  /** A closing tag at `lt`; false when the chunk ends inside it. */
  private closeTag(lt: number, final: boolean): boolean {
    const b = this.buf;
    const len = b.length;
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) {
      const n = top.length;
      let i = lt + 2;
      let k = 0;
      while (k < n && i < len && b[i] === top.charCodeAt(k)) {
        i++;
        k++;
      }
      if (k === n) {
        while (i < len && isSpace(b[i]!)) i++;
        if (i < len && b[i] === GT) {
          this.pos = i + 1;
          this.closeElement();
          return true;
        }
      }
      if (i >= len && !final) return false;
    }
    // Not the expected end tag: say exactly what is wrong.
    const gt = b.indexOf(GT, lt);
    if (gt < 0) {
      if (!final) return false;
      this.fail('a malformed closing tag', 'truncated-xml');
    }
    let i = lt + 2;
    while (i < len && isNameByte(b[i]!)) i++;
    const name = b.toString('utf8', lt + 2, i);
    while (i < len && isSpace(b[i]!)) i++;
    if (name === '' || i !== gt) this.fail('a malformed closing tag', final ? 'truncated-xml' : 'malformed-xml');
    this.fail(top !== undefined ? `</${name}> closes <${this.shown(top)}>: the tags are not nested properly` : `</${name}> closes nothing`);
  }

  /** `<!`: a comment, CDATA, or a refused DOCTYPE; false when the chunk ends inside it. */
  private markup(lt: number, final: boolean): boolean {
    const b = this.buf;
    if (b.length - lt < 9 && !final) return false;
    const head = b.toString('latin1', lt, Math.min(b.length, lt + 9));
    if (head.startsWith('<!--')) {
      const end = b.indexOf('-->', lt + 4, 'latin1');
      if (end < 0) {
        if (final) this.fail('an unterminated comment', 'truncated-xml');
        return false;
      }
      // Found at `end` at the latest: the search stays inside the comment.
      const dashes = b.indexOf('--', lt + 4, 'latin1');
      if (dashes < end) this.failAt(dashes, "'--' inside a comment: XML does not allow it there");
      this.started = true;
      this.pos = end + 3;
      return true;
    }
    if (head === '<![CDATA[') {
      const end = b.indexOf(']]>', lt + 9, 'latin1');
      if (end < 0) {
        if (final) this.fail('an unterminated CDATA section', 'truncated-xml');
        return false;
      }
      if (this.stack.length === 0) this.fail('CDATA outside the root element');
      const cr = this.checkChars(lt + 9, end, false);
      // CDATA is taken as it stands (no entity in it is expanded), but for its line ends.
      if (this.building.length > 0) {
        const t = b.toString('utf8', lt + 9, end);
        this.building[this.building.length - 1]!.text += cr ? t.replace(/\r\n?/g, '\n') : t;
      }
      this.pos = end + 3;
      return true;
    }
    if (/^<!DOCTYPE/i.test(head)) {
      this.fail(
        'the file has a DOCTYPE; seed files never need one and it can carry entity expansion ("billion laughs") or external references, so tokensmith refuses it before reading any element. Remove the <!DOCTYPE ...> declaration if the file is genuine.',
        'doctype-refused',
      );
    }
    this.fail(`unexpected markup '${b.toString('utf8', lt, Math.min(b.length, lt + 9))}'`);
  }

  /** Text up to the next tag, buf[from, to): a value of the element being built, or an error outside the root. */
  private takeText(from: number, to: number): void {
    if (this.stack.length === 0) {
      // Only XML's four white-space characters may stand outside the root (not a no-break space, not U+FEFF).
      while (isSpace(this.buf[from]!)) from++;
      this.pos = from;
      this.fail(this.rootSeen ? 'text after the root element' : 'text before the root element: this is not XML', this.rootSeen ? 'malformed-xml' : 'not-xml');
    }
    // Taken (and so checked for stray entities) even where nobody reads it.
    const t = this.valueAt(from, to, true);
    if (this.building.length > 0) this.building[this.building.length - 1]!.text += t;
  }

  private decode(s: string): string {
    return s.replace(ENTITY, (whole, ref: string | undefined) => {
      if (ref === undefined) this.fail("a bare '&': write &amp;");
      if (ref[0] === '#') {
        const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        // XML's Char: tab, LF, CR, and the rest of Unicode but the other controls, surrogates, FFFE and FFFF.
        const isChar = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
        if (!isChar) this.fail(`character reference ${whole} is not a character XML allows`);
        return String.fromCodePoint(cp);
      }
      const v = PREDEFINED[ref];
      if (v === undefined) this.fail(`entity ${whole} is not one of XML's five (&lt; &gt; &amp; &quot; &apos;): tokensmith expands no other entity`, 'entity-refused');
      return v;
    });
  }
}
