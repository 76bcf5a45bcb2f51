/**
 * The family-specific parts of the `device` and `simulate` commands, built
 * from the families' declarations (drivers/family.ts `help`, `flags`,
 * `simulator.optionHelp`; contract.ts `commands`) once the command is chosen:
 * the registry loads the drivers, which `--version` and `--help` must not.
 * No family is named here.
 */
import type { Command } from 'commander';
import type { DeviceFamily, DeviceVerb, FamilyVerbHelp, SimulatorOptionName } from '../../../drivers/family.js';

/** A verb's own examples; the families' come after them. */
export type VerbExamples = Partial<Record<DeviceVerb, readonly string[]>>;

const verbHelp = (f: DeviceFamily, verb: DeviceVerb): FamilyVerbHelp | undefined => f.help?.verbs?.[verb];
const labelOf = (f: DeviceFamily): string => f.help?.label ?? f.name;

/** `device`'s description: what each family programs, grouped by how it is reached. */
export function deviceDescription(list: readonly DeviceFamily[]): string | undefined {
  const byVia = new Map<string, string[]>();
  for (const d of list.flatMap((f) => f.help?.devices ?? [])) byVia.set(d.via, [...(byVia.get(d.via) ?? []), d.what]);
  if (byVia.size === 0) return undefined;
  const parts = [...byVia].map(([via, whats]) => `${via} (${whats.join(', ')})`);
  return `program and check tokens on ${parts.join(' or ')}`;
}

/** A verb's description with each family's clause in brackets. */
export function verbDescription(base: string, list: readonly DeviceFamily[], verb: DeviceVerb): string {
  const whats = list.map((f) => verbHelp(f, verb)?.what).filter((w): w is string => !!w);
  return whats.length > 0 ? `${base} (${whats.join('; ')})` : base;
}

/** An option every family of the verb shares: the labels of the families that alone take it, then its text, then their notes. */
export function optionText(base: string, flag: string, list: readonly DeviceFamily[], verb: DeviceVerb): string {
  const takers = list.filter((f) => verbHelp(f, verb)?.takes?.includes(flag)).map(labelOf);
  const notes = list.map((f) => verbHelp(f, verb)?.notes?.[flag]).filter((n): n is string => !!n);
  return (
    (takers.length > 0 ? `${takers.join(', ')}: ` : '') + base + (notes.length > 0 ? ` (${notes.join('; ')})` : '')
  );
}

/** The "Examples:" paragraph (the verb's own lines, then the families'), then each family's own paragraphs; '' when none. */
export function examplesText(own: readonly string[], list: readonly DeviceFamily[], verb: DeviceVerb): string {
  const lines = [...own, ...list.flatMap((f) => verbHelp(f, verb)?.examples ?? [])];
  const sections = list.flatMap((f) => verbHelp(f, verb)?.sections ?? []);
  const head = lines.length > 0 ? `\n${lines.length > 1 ? 'Examples' : 'Example'}:\n  ${lines.join('\n  ')}` : '';
  return head + sections.map((s) => `${head ? '\n' : ''}\n${s.heading}\n  ${s.lines.join('\n  ')}`).join('');
}

/**
 * The flags the families declare for the verb, once each (commander refuses a second): the descriptions of a flag
 * two families share joined, an unlabelled one said once after the labels of the families that declare it.
 */
export function familyFlags(list: readonly DeviceFamily[], verb: DeviceVerb): Map<string, string> {
  const byFlag = new Map<string, Map<string, string[]>>();
  for (const f of list)
    for (const fl of f.flags?.[verb] ?? []) {
      const texts = byFlag.get(fl.flag) ?? new Map<string, string[]>();
      const labels = texts.get(fl.description) ?? [];
      texts.set(fl.description, fl.unlabelled ? [...labels, labelOf(f)] : labels);
      byFlag.set(fl.flag, texts);
    }
  const said = (text: string, labels: string[]) => (labels.length > 0 ? `${labels.join(', ')}: ${text}` : text);
  return new Map(
    [...byFlag].map(([flag, texts]) => [flag, [...texts].map(([text, labels]) => said(text, labels)).join('; ')]),
  );
}

/** Each verb command: its description, its shared options' texts, the families' flags, then its examples. */
export function addVerbParts(sub: Command, verb: DeviceVerb, list: readonly DeviceFamily[], own: readonly string[]) {
  sub.description(verbDescription(sub.description(), list, verb));
  for (const o of sub.options) if (o.long) o.description = optionText(o.description, o.long, list, verb);
  for (const [flag, description] of familyFlags(list, verb)) {
    const long = flag.split(/[ <[]/)[0];
    // A flag of a family's own that a verb already has (a shared --customer-key) keeps the verb's.
    if (!sub.options.some((o) => o.long === long)) sub.option(flag, description);
  }
  const examples = examplesText(own, list, verb);
  if (examples) sub.addHelpText('after', examples);
}

/** `simulate`'s per-model option texts: the families whose simulator takes the option, by their label, each with its text. */
export function simulatorOptionText(name: SimulatorOptionName, list: readonly DeviceFamily[]): string | undefined {
  const byText = new Map<string, string[]>();
  for (const f of list) {
    const text = f.simulator?.options.includes(name) ? f.simulator.optionHelp?.[name] : undefined;
    if (text) byText.set(text, [...(byText.get(text) ?? []), labelOf(f)]);
  }
  if (byText.size === 0) return undefined;
  return [...byText].map(([text, labels]) => `${labels.join(', ')}: ${text}`).join('; ');
}

/** The first simulator example a family gives. */
export function simulatorExample(list: readonly DeviceFamily[]): readonly string[] | undefined {
  return list.find((f) => f.simulator?.example)?.simulator?.example;
}
