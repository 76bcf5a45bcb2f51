/**
 * Directories as the admin sees them: add one (its bind password sealed),
 * list, show, test the connection and remove; and link a Resource to one of
 * its groups, so that the group's members are the Resource's users.
 */
import { DataError, NotFoundError, UsageError } from '../core/errors.js';
import { withConnection } from '../directory/client.js';
import { configOf, directoryConfig, type DirectoryConfig, type DirectoryOptions } from '../directory/config.js';
import { findPerson, groupMembers } from '../directory/people.js';
import { ON_LEAVE, type DirectoryRecord, type OnLeave, type Repos, type Store } from '../store/types.js';
import { findResource } from './resources.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface DirectoryView extends DirectoryConfig {
  name: string;
  /** Never the password itself. */
  bindPassword: 'sealed';
  links: { resource: string; group: string; onLeave: OnLeave }[];
  accounts: number;
}

export async function findDirectory(repos: Repos, name: string): Promise<DirectoryRecord> {
  const d = await repos.directories.findByName(name);
  if (!d) throw new NotFoundError(`no directory named '${name}' (add one with: tokensmith directory add ${name} ...)`);
  return d;
}

export async function viewDirectory(repos: Repos, d: DirectoryRecord): Promise<DirectoryView> {
  const links = await Promise.all(
    (await repos.directories.links(d.id)).map(async (l) => ({
      resource: (await repos.resources.get(l.resourceId))?.name ?? `#${l.resourceId}`,
      group: l.groupDn,
      onLeave: l.onLeave,
    })),
  );
  const accounts = (await repos.directories.accounts(d.id)).length;
  return { name: d.name, ...configOf(d.config), bindPassword: 'sealed', links, accounts };
}

export async function addDirectory(
  store: Store,
  name: string,
  input: DirectoryOptions & { bindPassword: string },
): Promise<DirectoryRecord> {
  if (!NAME_RE.test(name)) throw new UsageError(`a directory name is 1 to 64 letters, digits or . _ -; got '${name}'`);
  if (!input.bindPassword) throw new UsageError('the bind password is empty: an empty password is an anonymous bind');
  const { bindPassword, ...options } = input;
  const config = directoryConfig(options);
  return store.transaction(async (tx) => {
    const d = await tx.directories.create({ name, config: { ...config }, bindPassword });
    await tx.audit.append({
      action: 'directory.add',
      subject: `directory:${name}`,
      details: { url: config.url, preset: config.preset, baseDn: config.baseDn, bindDn: config.bindDn },
    });
    return d;
  });
}

export async function listDirectories(store: Store): Promise<DirectoryView[]> {
  return Promise.all((await store.directories.list()).map((d) => viewDirectory(store, d)));
}

/**
 * Removes a directory and its links. Its users stay (with their tokens) but leave the Resources that were linked to
 * it, and their portal sessions end: they were users there only because the directory said so.
 */
export async function removeDirectory(
  store: Store,
  name: string,
): Promise<{ name: string; accounts: number; removedFromResources: number }> {
  return store.transaction(async (tx) => {
    const d = await findDirectory(tx, name);
    const accounts = await tx.directories.accounts(d.id);
    const links = await tx.directories.links(d.id);
    let removedFromResources = 0;
    for (const a of accounts) {
      for (const l of links)
        if (await tx.users.isInResource(a.userId, l.resourceId)) {
          await tx.users.removeFromResource(a.userId, l.resourceId);
          removedFromResources++;
        }
      await tx.portal.endUserSessions(a.userId);
    }
    await tx.directories.remove(d.id);
    await tx.audit.append({
      action: 'directory.remove',
      subject: `directory:${name}`,
      details: { accounts: accounts.length, removedFromResources },
    });
    return { name, accounts: accounts.length, removedFromResources };
  });
}

export interface DirectoryTestResult {
  directory: string;
  url: string;
  tls: 'ldaps' | 'starttls' | 'none';
  bind: 'ok';
  login?: { login: string; found: boolean; dn?: string; disabled?: boolean };
  groups: { resource: string; group: string; members: number }[];
}

/** Connects, binds as the service account, looks a login up and counts each linked group's members; changes nothing. */
export async function testDirectory(
  store: Store,
  name: string,
  opts: { login?: string } = {},
): Promise<DirectoryTestResult> {
  const d = await findDirectory(store, name);
  const config = configOf(d.config);
  const password = await store.directories.bindPassword(d);
  const links = await viewDirectory(store, d);
  return withConnection(d.name, config, async (conn) => {
    await conn.bindService(password);
    const result: DirectoryTestResult = {
      directory: d.name,
      url: config.url,
      tls: /^ldaps:/i.test(config.url) ? 'ldaps' : config.starttls ? 'starttls' : 'none',
      bind: 'ok',
      groups: [],
    };
    if (opts.login !== undefined) {
      const p = await findPerson(conn, opts.login);
      result.login = p
        ? { login: p.login, found: true, dn: p.dn, disabled: p.disabled }
        : { login: opts.login, found: false };
    }
    for (const l of links.links)
      result.groups.push({ resource: l.resource, group: l.group, members: (await groupMembers(conn, l.group)).length });
    return result;
  });
}

/** Links a Resource to a directory group; the next sync makes the group's members its users. */
export async function linkResource(
  store: Store,
  resource: string,
  input: { directory: string; group: string; onLeave?: string },
): Promise<{ resource: string; directory: string; group: string; onLeave: OnLeave }> {
  const onLeave = (input.onLeave ?? 'keep') as OnLeave;
  if (!ON_LEAVE.includes(onLeave))
    throw new UsageError(`--on-leave must be one of ${ON_LEAVE.join(', ')}, got '${input.onLeave}'`);
  if (!/=/.test(input.group)) throw new DataError(`--group must be a group's DN (cn=...,dc=...), got '${input.group}'`);
  return store.transaction(async (tx) => {
    const r = await findResource(tx, resource);
    const d = await findDirectory(tx, input.directory);
    await tx.directories.link({ resourceId: r.id, directoryId: d.id, groupDn: input.group, onLeave });
    await tx.audit.append({
      action: 'resource.link',
      subject: `resource:${r.name}`,
      details: { directory: d.name, group: input.group, onLeave },
    });
    return { resource: r.name, directory: d.name, group: input.group, onLeave };
  });
}
