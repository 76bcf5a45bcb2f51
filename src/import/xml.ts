/**
 * Safe streaming XML for seed files: saxes over the file's chunks, with a
 * DOCTYPE (and so any entity declaration or external reference) refused the
 * moment it is seen, before any element is read. Callers name the elements
 * they want as small trees (one key package, one token); everything else
 * streams past, so memory stays flat whatever the file's size.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { DataError } from '../core/errors.js';
import { readTextChunks } from './text.js';
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

function attrsOf(tag: SaxesTagPlain): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tag.attributes)) {
    out[k.startsWith('xmlns') ? k : localOf(k).name] = v;
  }
  return out;
}

/**
 * Streams an XML file. Yields the root element first (without children),
 * then every element for which `wanted(path)` holds, as a complete tree, in
 * document order. `path` holds the local names from the root down to it.
 */
export async function* streamXml(path: string, ctx: ParseContext, wanted: (path: string[]) => boolean): AsyncGenerator<XmlItem> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const queue: XmlItem[] = [];
  const names: string[] = [];
  // The stack of trees being built; empty when outside a wanted element.
  const building: XmlNode[] = [];
  let buildingDepth = -1;
  let sawRoot = false;
  let failure: DataError | null = null;
  const where = () => `${ctx.fileName}:${parser.line}`;

  parser.on('doctype', () => {
    throw new DataError(
      `${where()}: the file has a DOCTYPE; seed files never need one and it can carry entity expansion ("billion laughs") or external references, so tokensmith refuses it before reading any element. Remove the <!DOCTYPE ...> declaration if the file is genuine.`,
      { code: 'doctype-refused', where: where() },
    );
  });
  parser.on('error', (err) => {
    failure ??= new DataError(`${where()}: not well-formed XML: ${err.message.replace(/^.*?:\d+:\d+: /, '')}`, { code: 'malformed-xml', where: where() });
    throw failure;
  });
  parser.on('opentag', (tag) => {
    const { name, prefix } = localOf(tag.name);
    const node: XmlNode = { name, prefix, attrs: attrsOf(tag as SaxesTagPlain), children: [], text: '', line: parser.line };
    names.push(name);
    if (!sawRoot) {
      sawRoot = true;
      queue.push({ root: node });
      return;
    }
    if (building.length > 0) {
      building[building.length - 1]!.children.push(node);
      building.push(node);
    } else if (wanted(names)) {
      building.push(node);
      buildingDepth = names.length;
    }
  });
  const onText = (t: string) => {
    if (building.length > 0) building[building.length - 1]!.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (building.length > 0) {
      const done = building.pop()!;
      if (building.length === 0 && names.length === buildingDepth) queue.push({ node: done, path: [...names] });
    }
    names.pop();
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
    parser.write(chunk);
    while (queue.length > 0) yield queue.shift()!;
  }
  if (first) throw new DataError(`${ctx.fileName}: the file is empty`, { code: 'empty-file', where: ctx.fileName });
  try {
    parser.close();
  } catch (err) {
    if (err instanceof DataError && names.length > 0) {
      throw new DataError(`${ctx.fileName}:${parser.line}: the XML ends before <${names[names.length - 1]}> is closed: the file is truncated; get a complete copy`, {
        code: 'truncated-xml',
        where: `${ctx.fileName}:${parser.line}`,
      });
    }
    throw err;
  }
  while (queue.length > 0) yield queue.shift()!;
}

/** The first child with a local name (case-insensitive: legacy files vary). */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node) return undefined;
  const lower = name.toLowerCase();
  return node.children.find((c) => c.name.toLowerCase() === lower);
}

export function childrenNamed(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  const lower = name.toLowerCase();
  return node.children.filter((c) => c.name.toLowerCase() === lower);
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
  for (const [k, v] of Object.entries(node.attrs)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
