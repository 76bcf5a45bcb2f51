/**
 * Which tokens an export takes: by Resource (its stock and the tokens
 * assigned in it), by state, by a file of serials. Streams the tokens page by
 * page and joins each with its user and Resource, so 100,000 tokens never sit
 * in memory at once.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError, NotFoundError } from '../core/errors.js';
import { parseStateList, type TokenState } from '../core/states.js';
import type {
  AssignmentRecord,
  Repos,
  ResourceRecord,
  TokenFilter,
  TokenRecord,
  TokenWithSeed,
  UserRecord,
} from '../store/types.js';

export interface SelectionInput {
  resource?: string;
  /** One state or a comma list (`assigned,enrolled`). */
  state?: string;
  /** A file with one serial per line (# comments and blank lines are ignored). */
  serialsFile?: string;
}

export interface Selection {
  resource: ResourceRecord | null;
  /** Any of these states. */
  states?: TokenState[];
  serials?: string[];
  /** For messages: "Resource 'vpn', state assigned". */
  description: string;
}

/** Reads a serials file: one per line; names the line of a serial not in the store. */
export async function readSerialsFile(repos: Repos, path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DataError(
      `cannot read the serials file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { code: 'serials-file' },
    );
  }
  const serials: string[] = [];
  const missing: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const s = raw.trim();
    if (!s || s.startsWith('#')) continue;
    if ((await repos.tokens.findBySerial(s)).length === 0) missing.push(`${basename(path)}:${i + 1} ${s}`);
    serials.push(s);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ');
    throw new DataError(
      `${missing.length} serial(s) in ${path} are not in the store: ${shown}${missing.length > 10 ? ', ...' : ''}; fix the file or import those tokens first`,
      {
        code: 'unknown-serial',
        where: missing[0],
      },
    );
  }
  if (serials.length === 0)
    throw new DataError(`the serials file ${path} lists no serials`, { code: 'empty-selection' });
  return serials;
}

export async function resolveSelection(repos: Repos, input: SelectionInput): Promise<Selection> {
  const states = parseStateList(input.state);
  let resource: ResourceRecord | null = null;
  if (input.resource !== undefined) {
    resource = await repos.resources.findByName(input.resource);
    if (!resource)
      throw new NotFoundError(
        `no resource named '${input.resource}' (list them with: tokensmith resource show <name>)`,
      );
  }
  const serials = input.serialsFile ? await readSerialsFile(repos, input.serialsFile) : undefined;
  const parts = [
    resource ? `Resource '${resource.name}'` : 'all tokens',
    states ? `state ${states.join(' or ')}` : '',
    serials ? `${serials.length} serial(s) from ${input.serialsFile}` : '',
  ];
  return {
    resource,
    states,
    serials,
    description: parts.filter(Boolean).join(', '),
  };
}

function filterOf(sel: Selection): TokenFilter {
  return { states: sel.states, serials: sel.serials, resourceId: sel.resource?.id };
}

function matches(t: TokenRecord, sel: Selection): boolean {
  return (!sel.states || sel.states.includes(t.state)) && (!sel.serials || sel.serials.includes(t.serial));
}

/** Tokens assigned in the Resource whose stock is elsewhere (the stock ones come from the filter). */
async function* assignedElsewhere(repos: Repos, sel: Selection): AsyncIterable<TokenWithSeed> {
  if (!sel.resource) return;
  for (const a of await repos.assignments.list({ resourceId: sel.resource.id })) {
    const t = await repos.tokens.get(a.tokenId);
    if (t && t.resourceId !== sel.resource.id && matches(t, sel))
      yield { token: t, seed: t.hasSeed ? await repos.tokens.openSeed(t) : null, assignment: a };
  }
}

export async function countSelection(repos: Repos, sel: Selection): Promise<number> {
  let n = await repos.tokens.count(filterOf(sel));
  if (sel.resource) {
    for (const a of await repos.assignments.list({ resourceId: sel.resource.id })) {
      const t = await repos.tokens.get(a.tokenId);
      if (t && t.resourceId !== sel.resource.id && matches(t, sel)) n++;
    }
  }
  return n;
}

/** The selected tokens with their opened seeds and assignments, a page at a time. */
export async function* iterateSelection(repos: Repos, sel: Selection): AsyncIterable<TokenWithSeed> {
  yield* repos.tokens.iterateWithSeeds(filterOf(sel));
  yield* assignedElsewhere(repos, sel);
}

export interface TokenContext {
  user: UserRecord | null;
  resource: string | null;
}

/** Looks up each token's user and Resource, caching users and Resources (few) but not tokens (many). */
export class TokenContextLookup {
  private readonly users = new Map<number, UserRecord | null>();
  private readonly resources = new Map<number, string | null>();
  constructor(private readonly repos: Repos) {}

  async of(t: TokenRecord, a: AssignmentRecord | null): Promise<TokenContext> {
    const resourceId = a?.resourceId ?? t.resourceId;
    let user: UserRecord | null = null;
    if (a) {
      if (!this.users.has(a.userId)) this.users.set(a.userId, await this.repos.users.get(a.userId));
      user = this.users.get(a.userId) ?? null;
    }
    let resource: string | null = null;
    if (resourceId != null) {
      if (!this.resources.has(resourceId))
        this.resources.set(resourceId, (await this.repos.resources.get(resourceId))?.name ?? null);
      resource = this.resources.get(resourceId) ?? null;
    }
    return { user, resource };
  }
}
