/**
 * A small streaming XML tokenizer for seed files: tags, attributes, text,
 * CDATA, comments and processing instructions, with well-formedness checks
 * (nesting, one root, no stray text) and the five predefined entities and
 * character references. A DOCTYPE is refused as soon as `<!DOCTYPE` is seen,
 * so no entity is ever declared, expanded or fetched. It exists because a
 * general SAX parser spent most of the time of a 100,000-token import.
 */
import { DataError } from '../core/errors.js';

/** Whether buf[from, to) is XML white space only (space, tab, CR, LF). */
function isBlank(buf: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = buf.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** Text that is white space only between two tags (indentation) is not reported: no seed-file value is made of it. */
export interface ScanHandlers {
  open(name: string, attrs: Record<string, string>, line: number, selfClosing: boolean): void;
  close(name: string): void;
  text(text: string): void;
}

const OPEN_TAG = /<([^\s/>=<"'!?]+)((?:\s+[^\s=/>"'<]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const ATTR = /\s+([^\s=/>"'<]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const CLOSE_TAG = /<\/([^\s/>=<"'!?]+)\s*>/y;
const ENTITY = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);|&/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** A construct longer than this without its end is not a seed file. */
const MAX_PENDING = 4 * 1024 * 1024;

export class XmlScanner {
  private buf = '';
  private pos = 0;
  /** Line of `lineCountedTo` (1-based). */
  private lineNo = 1;
  private lineCountedTo = 0;
  private readonly stack: string[] = [];
  private rootSeen = false;
  private rootClosed = false;

  constructor(
    private readonly fileName: string,
    private readonly h: ScanHandlers,
  ) {}

  /** The line of the current position. */
  get line(): number {
    return this.lineAt(this.pos);
  }

  private lineAt(p: number): number {
    let i = this.buf.indexOf('\n', this.lineCountedTo);
    while (i >= 0 && i < p) {
      this.lineNo++;
      i = this.buf.indexOf('\n', i + 1);
    }
    this.lineCountedTo = p;
    return this.lineNo;
  }

  private fail(message: string, code = 'malformed-xml'): never {
    const where = `${this.fileName}:${this.line}`;
    throw new DataError(`${where}: ${message}`, { code, where });
  }

  write(chunk: string): void {
    this.buf = this.pos > 0 ? this.buf.slice(this.pos) + chunk : this.buf + chunk;
    this.lineCountedTo -= this.pos;
    if (this.lineCountedTo < 0) this.lineCountedTo = 0;
    this.pos = 0;
    this.scan(false);
    if (this.buf.length - this.pos > MAX_PENDING) this.fail('a tag or text runs on for megabytes without ending: this is not a seed file');
  }

  close(): void {
    this.scan(true);
    if (this.stack.length > 0) {
      this.fail(`the XML ends before <${this.stack[this.stack.length - 1]}> is closed: the file is truncated; get a complete copy`, 'truncated-xml');
    }
    if (!this.rootSeen) this.fail('no XML element in the file', 'not-xml');
  }

  private scan(final: boolean): void {
    const buf = this.buf;
    for (;;) {
      const lt = buf.indexOf('<', this.pos);
      if (lt < 0) {
        if (!final) return; // text may continue in the next chunk
        this.emitText(buf.slice(this.pos));
        this.pos = buf.length;
        return;
      }
      if (lt > this.pos) {
        if (!isBlank(buf, this.pos, lt)) this.emitText(buf.slice(this.pos, lt));
        this.pos = lt;
      }
      const next = buf.charCodeAt(lt + 1);
      if (Number.isNaN(next)) {
        if (final) this.fail('the file ends inside a tag: it is truncated', 'truncated-xml');
        return;
      }
      if (next === 0x2f /* / */) {
        CLOSE_TAG.lastIndex = lt;
        const m = CLOSE_TAG.exec(buf);
        if (!m) {
          if (!final && buf.indexOf('>', lt) < 0) return;
          this.fail('a malformed closing tag', final ? 'truncated-xml' : 'malformed-xml');
        }
        const open = this.stack.pop();
        if (open !== m[1]) this.fail(open ? `</${m[1]}> closes <${open}>: the tags are not nested properly` : `</${m[1]}> closes nothing`);
        this.pos = CLOSE_TAG.lastIndex;
        this.h.close(m[1]!);
        if (this.stack.length === 0) this.rootClosed = true;
        continue;
      }
      if (next === 0x3f /* ? */) {
        const end = buf.indexOf('?>', lt + 2);
        if (end < 0) {
          if (final) this.fail('an unterminated processing instruction', 'truncated-xml');
          return;
        }
        this.pos = end + 2;
        continue;
      }
      if (next === 0x21 /* ! */) {
        if (buf.length - lt < 9 && !final) return;
        if (buf.startsWith('<!--', lt)) {
          const end = buf.indexOf('-->', lt + 4);
          if (end < 0) {
            if (final) this.fail('an unterminated comment', 'truncated-xml');
            return;
          }
          this.pos = end + 3;
          continue;
        }
        if (buf.startsWith('<![CDATA[', lt)) {
          const end = buf.indexOf(']]>', lt + 9);
          if (end < 0) {
            if (final) this.fail('an unterminated CDATA section', 'truncated-xml');
            return;
          }
          if (this.stack.length === 0) this.fail('CDATA outside the root element');
          this.h.text(buf.slice(lt + 9, end));
          this.pos = end + 3;
          continue;
        }
        if (/^<!DOCTYPE/i.test(buf.slice(lt, lt + 9))) {
          this.pos = lt;
          this.fail(
            'the file has a DOCTYPE; seed files never need one and it can carry entity expansion ("billion laughs") or external references, so tokensmith refuses it before reading any element. Remove the <!DOCTYPE ...> declaration if the file is genuine.',
            'doctype-refused',
          );
        }
        this.fail(`unexpected markup '${buf.slice(lt, lt + 9)}'`);
      }
      OPEN_TAG.lastIndex = lt;
      const m = OPEN_TAG.exec(buf);
      if (!m) {
        if (!final && buf.indexOf('>', lt) < 0) return;
        // A '>' inside a quoted value may come before the tag's own end: wait for more unless at the end.
        if (!final && buf.length - lt < 64 * 1024) return;
        this.pos = lt;
        this.fail('a malformed start tag', final ? 'truncated-xml' : 'malformed-xml');
      }
      if (this.rootClosed) {
        this.pos = lt;
        this.fail('a second root element: an XML file has exactly one');
      }
      const line = this.lineAt(lt);
      const attrs: Record<string, string> = {};
      const rawAttrs = m[2]!;
      if (rawAttrs) {
        ATTR.lastIndex = 0;
        let a: RegExpExecArray | null;
        while ((a = ATTR.exec(rawAttrs)) !== null) {
          const v = a[2] ?? a[3] ?? '';
          attrs[a[1]!] = v.includes('&') ? this.decode(v) : v;
        }
      }
      const selfClosing = m[3] === '/';
      this.pos = OPEN_TAG.lastIndex;
      this.rootSeen = true;
      this.h.open(m[1]!, attrs, line, selfClosing);
      if (selfClosing) {
        this.h.close(m[1]!);
        if (this.stack.length === 0) this.rootClosed = true;
      } else this.stack.push(m[1]!);
    }
  }

  private emitText(t: string): void {
    if (t.length === 0) return;
    if (this.stack.length === 0) {
      if (t.trim() !== '') this.fail(this.rootSeen ? 'text after the root element' : 'text before the root element: this is not XML', this.rootSeen ? 'malformed-xml' : 'not-xml');
      return;
    }
    this.h.text(t.includes('&') ? this.decode(t) : t);
  }

  private decode(s: string): string {
    return s.replace(ENTITY, (whole, ref: string | undefined) => {
      if (ref === undefined) this.fail("a bare '&': write &amp;");
      if (ref[0] === '#') {
        const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!(cp > 0 && cp <= 0x10ffff)) this.fail(`character reference ${whole} is not a character`);
        return String.fromCodePoint(cp);
      }
      const v = PREDEFINED[ref];
      if (v === undefined) this.fail(`entity ${whole} is not one of XML's five (&lt; &gt; &amp; &quot; &apos;): tokensmith expands no other entity`, 'entity-refused');
      return v;
    });
  }
}
