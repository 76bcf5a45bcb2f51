/**
 * Safe streaming XML for seed files: a SAX-style tokenizer over the file's chunks, with a
 * DOCTYPE (and so any entity declaration or external reference) refused the
 * moment it is seen, before any element is read. Callers name the elements
 * they want as small trees (one key package, one token); everything else
 * streams past, so memory stays flat whatever the file's size.
 */
import { DataError } from '../core/errors.js';
import { readByteChunks } from './text.js';
import { XmlScanner, type XmlItem, type XmlNode } from './xml-scan.js';
import type { ParseContext } from './types.js';

export type { XmlItem, XmlNode } from './xml-scan.js';

/**
 * Streams an XML file. Yields the root element first (without children),
 * then every element for which `wanted(path)` holds, as a complete tree, in
 * document order. `path` holds the local names from the root down to it.
 */
export async function* streamXml(
  path: string,
  ctx: ParseContext,
  wanted: (path: string[]) => boolean,
): AsyncGenerator<XmlItem> {
  for await (const batch of streamXmlBatches(path, ctx, wanted)) yield* batch;
}

/** streamXml's items, a batch per piece of the file read. */
export async function* streamXmlBatches(
  path: string,
  ctx: ParseContext,
  wanted: (path: string[]) => boolean,
): AsyncGenerator<XmlItem[]> {
  const scanner = new XmlScanner(ctx.fileName, wanted);
  let first = true;
  for await (const chunk of readByteChunks(path, ctx)) {
    if (first) {
      first = false;
      const head = chunk.toString('latin1', 0, 64).trimStart();
      if (head.startsWith('PK\u0003\u0004')) {
        throw new DataError(
          `${ctx.fileName}:1: this looks like a ZIP archive, not XML: unpack it first (vendors ship seed files in password-protected ZIPs)`,
          {
            code: 'not-xml',
            where: `${ctx.fileName}:1`,
          },
        );
      }
      if (head.length > 0 && head[0] !== '<') {
        throw new DataError(`${ctx.fileName}:1: this is not XML (it does not start with '<')`, {
          code: 'not-xml',
          where: `${ctx.fileName}:1`,
        });
      }
    }
    scanner.write(chunk);
    if (scanner.items.length > 0) yield scanner.items.splice(0);
  }
  if (first) throw new DataError(`${ctx.fileName}: the file is empty`, { code: 'empty-file', where: ctx.fileName });
  scanner.close();
  if (scanner.items.length > 0) yield scanner.items.splice(0);
}

/**
 * Lower-case forms of the names callers look up: a few dozen constants, looked up
 * millions of times in a large file; a direct-mapped memo that compares the
 * strings themselves (the same constant string is one object, so mostly a pointer compare).
 */
const memoName: string[] = new Array<string>(256).fill('');
const memoLower: string[] = new Array<string>(256).fill('');
function lowerOf(name: string): string {
  const slot = (name.length * 31 + name.charCodeAt(0) + name.charCodeAt(name.length - 1) * 7) & 255;
  if (memoName[slot] === name) return memoLower[slot]!;
  const lower = name.toLowerCase();
  memoName[slot] = name;
  memoLower[slot] = lower;
  return lower;
}

/** The first child with a local name, case-insensitive (legacy files vary). */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node) return undefined;
  const lower = lowerOf(name);
  for (const c of node.children) if (c.lower === lower) return c;
  return undefined;
}

export function childrenNamed(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  const lower = lowerOf(name);
  const out: XmlNode[] = [];
  for (const c of node.children) if (c.lower === lower) out.push(c);
  return out;
}

/** Follows a path of local names: path(kp, 'DeviceInfo', 'SerialNo'). */
export function path(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  let cur = node;
  for (const n of names) cur = child(cur, n);
  return cur;
}

export function textOf(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const t = node.text.trim();
  return t === '' ? undefined : t;
}

/** An attribute by name, case-insensitive (legacy files write length= and Length=). */
export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (!node) return undefined;
  if (Object.hasOwn(node.attrs, name)) return node.attrs[name];
  const lower = lowerOf(name);
  for (const k in node.attrs) if (k.length === lower.length && k.toLowerCase() === lower) return node.attrs[k];
  return undefined;
}
