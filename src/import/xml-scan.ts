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
import {
  countNewlines,
  EMPTY,
  GT,
  isNameByte,
  isSpace,
  LT,
  MAX_DEPTH,
  MAX_PENDING,
  SLASH,
  type Bytes,
  type Name,
} from './xml-bytes.js';
import { INCOMPLETE, shown, StartTagReader } from './xml-tag.js';
import { XmlValueReader } from './xml-values.js';

export { countNewlines, MAX_ATTRIBUTES, MAX_DEPTH } from './xml-bytes.js';

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

export type XmlItem =
  { root: XmlNode; node?: undefined; path?: undefined } | { node: XmlNode; path: string[]; root?: undefined };

/** The children of a leaf: shared and frozen (most elements are leaves); a node gets its own array with its first child. */
const NO_CHILDREN: XmlNode[] = Object.freeze([]) as unknown as XmlNode[];

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
  /** Names and values as strings (cached, decoded, checked). */
  private readonly values = new XmlValueReader(
    (at, message, code) => this.failAt(at, message, code),
    (message, code) => this.fail(message, code),
  );
  /** Finished items, in document order; the caller takes them after each write. */
  readonly items: XmlItem[] = [];
  /** The start tag just read: its name, attributes and whether it closes itself. */
  private readonly startTag = new StartTagReader(this.values);
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
    // Whatever part of the markup the file stops in, a person needs to hear that the copy is cut short.
    const said =
      code === 'truncated-xml' && !message.includes('truncated')
        ? `${message} at the end of the file: it is truncated; get a complete copy`
        : message;
    throw new DataError(`${where}: ${said}`, { code, where });
  }

  /** Reads the next part of the file. */
  write(chunk: Buffer): void {
    this.lineAt(this.pos);
    this.buf = (this.pos >= this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk])) as Bytes;
    this.values.buf = this.buf;
    this.words =
      this.buf.byteOffset % 4 === 0
        ? new Uint32Array(this.buf.buffer, this.buf.byteOffset, this.buf.length >>> 2)
        : null;
    this.lineCountedTo = 0;
    this.pos = 0;
    this.scan(false);
    if (this.buf.length - this.pos > MAX_PENDING)
      this.fail('a tag or text runs on for megabytes without ending: this is not a seed file');
  }

  close(): void {
    this.scan(true);
    if (this.stack.length > 0) {
      this.fail(
        `the XML ends before <${shown(this.stack[this.stack.length - 1]!)}> is closed: the file is truncated; get a complete copy`,
        'truncated-xml',
      );
    }
    if (!this.rootSeen && this.started)
      this.fail('the file ends after the XML declaration, before any element', 'truncated-xml');
    if (!this.rootSeen) this.fail('no XML element in the file', 'not-xml');
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
        if (
          this.started &&
          end >= lt + 5 &&
          (b[lt + 2]! | 0x20) === 0x78 &&
          (b[lt + 3]! | 0x20) === 0x6d &&
          (b[lt + 4]! | 0x20) === 0x6c &&
          (end === lt + 5 || isSpace(b[lt + 5]!))
        ) {
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
      const end = this.startTag.read(this.buf, lt);
      if (end < 0) {
        // A tag the chunk ends inside waits for the next one, however long (write() bounds what is pending).
        if (end === INCOMPLETE && !final) return;
        if (this.startTag.problem !== null) this.fail(this.startTag.problem);
        this.fail('a malformed start tag', final ? 'truncated-xml' : 'malformed-xml');
      }
      this.started = true;
      if (this.rootClosed) this.fail('a second root element: an XML file has exactly one');
      const line = this.lineAt(lt);
      this.pos = end;
      const tag = this.startTag;
      this.openElement(tag.tag!, tag.attrs, line, tag.selfClosing);
    }
  }

  private openElement(tag: Name, attrs: Record<string, string>, line: number, selfClosing: boolean): void {
    const { name, lower, prefix } = tag;
    if (this.stack.length >= MAX_DEPTH)
      this.fail(
        `elements nest more than ${MAX_DEPTH} deep at <${shown(tag.raw)}>: no seed file nests that deep, so the file is refused as hostile or broken`,
        'too-deep',
      );
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
      if (this.building.length === 0 && this.names.length === this.buildingDepth)
        this.items.push({ node: done, path: [...this.names] });
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
    this.fail(
      top !== undefined
        ? `</${name}> closes <${shown(top)}>: the tags are not nested properly`
        : `</${name}> closes nothing`,
    );
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
      const cr = this.values.checkChars(lt + 9, end, false);
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
      this.fail(
        this.rootSeen ? 'text after the root element' : 'text before the root element: this is not XML',
        this.rootSeen ? 'malformed-xml' : 'not-xml',
      );
    }
    // Taken (and so checked for stray entities) even where nobody reads it.
    const t = this.values.valueAt(from, to, true);
    if (this.building.length > 0) this.building[this.building.length - 1]!.text += t;
  }
}
