/**
 * Safe streaming XML for seed files: a SAX-style tokenizer over the file's chunks, with a
 * DOCTYPE (and so any entity declaration or external reference) refused the
 * moment it is seen, before any element is read. Callers name the elements
 * they want as small trees (one key package, one token); everything else
 * streams past, so memory stays flat whatever the file's size.
 */
import { DataError } from '../core/errors.js';
import { readTextChunks } from './text.js';
import { XmlScanner } from './xml-scan.js';
import type { ParseContext } from './types.js';

export interface XmlNode {
  /** Local name, prefix stripped (PSKC files use odd prefixes or none). */
  name: string;
  prefix: string;
  /** Attributes by local name (xmlns declarations kept as "xmlns" / "xmlns:p"). */
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

export type XmlItem = { root: XmlNode; node?: undefined; path?: undefined } | { node: XmlNode; path: string[]; root?: undefined };

function localOf(qname: string): { name: string; prefix: string } {
  const i = qname.indexOf(':');
  return i < 0 ? { name: qname, prefix: '' } : { name: qname.slice(i + 1), prefix: qname.slice(0, i) };
}

function attrsOf(raw: Record<string, string>): Record<string, string> {
  let prefixed = false;
  for (const k in raw) if (k.includes(':') && !k.startsWith('xmlns')) prefixed = true;
  if (!prefixed) return raw;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) out[k.startsWith('xmlns') ? k : localOf(k).name] = v;
  return out;
}

/**
 * Streams an XML file. Yields the root element first (without children),
 * then every element for which `wanted(path)` holds, as a complete tree, in
 * document order. `path` holds the local names from the root down to it.
 */
export async function* streamXml(path: string, ctx: ParseContext, wanted: (path: string[]) => boolean): AsyncGenerator<XmlItem> {
  const queue: XmlItem[] = [];
  const names: string[] = [];
  // The stack of trees being built; empty when outside a wanted element.
  const building: XmlNode[] = [];
  let buildingDepth = -1;
  let sawRoot = false;
  const scanner = new XmlScanner(ctx.fileName, {
    open(qname, rawAttrs, line) {
      const { name, prefix } = localOf(qname);
      names.push(name);
      if (!sawRoot) {
        sawRoot = true;
        queue.push({ root: { name, prefix, attrs: attrsOf(rawAttrs), children: [], text: '', line } });
        return;
      }
      if (building.length > 0) {
        const node: XmlNode = { name, prefix, attrs: attrsOf(rawAttrs), children: [], text: '', line };
        building[building.length - 1]!.children.push(node);
        building.push(node);
      } else if (wanted(names)) {
        building.push({ name, prefix, attrs: attrsOf(rawAttrs), children: [], text: '', line });
        buildingDepth = names.length;
      }
    },
    text(t) {
      if (building.length > 0) building[building.length - 1]!.text += t;
    },
    close() {
      if (building.length > 0) {
        const done = building.pop()!;
        if (building.length === 0 && names.length === buildingDepth) queue.push({ node: done, path: [...names] });
      }
      names.pop();
    },
  });

  let first = true;
  for await (const chunk of readTextChunks(path, ctx)) {
    if (first) {
      first = false;
      const head = chunk.trimStart();
      if (head.startsWith('PK\u0003\u0004')) {
        throw new DataError(`${ctx.fileName}:1: this looks like a ZIP archive, not XML: unpack it first (vendors ship seed files in password-protected ZIPs)`, { code: 'not-xml', where: `${ctx.fileName}:1` });
      }
      if (head.length > 0 && head[0] !== '<') {
        throw new DataError(`${ctx.fileName}:1: this is not XML (it does not start with '<')`, { code: 'not-xml', where: `${ctx.fileName}:1` });
      }
    }
    scanner.write(chunk);
    while (queue.length > 0) yield queue.shift()!;
  }
  if (first) throw new DataError(`${ctx.fileName}: the file is empty`, { code: 'empty-file', where: ctx.fileName });
  scanner.close();
  while (queue.length > 0) yield queue.shift()!;
}

/** The first child with a local name (case-insensitive: legacy files vary). */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node) return undefined;
  for (const c of node.children) if (c.name === name) return c;
  // Case-insensitive second pass; names of another length are passed over without building lower-case copies.
  const lower = name.toLowerCase();
  for (const c of node.children) if (c.name.length === lower.length && c.name.toLowerCase() === lower) return c;
  return undefined;
}

export function childrenNamed(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  const lower = name.toLowerCase();
  return node.children.filter((c) => c.name.length === lower.length && c.name.toLowerCase() === lower);
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
  if (name in node.attrs) return node.attrs[name];
  const lower = name.toLowerCase();
  for (const k in node.attrs) if (k.length === lower.length && k.toLowerCase() === lower) return node.attrs[k];
  return undefined;
}
