/**
 * The console's Users: search, one user with their Resources and tokens,
 * add, import a CSV, join and leave Resources; the services of `user add|
 * import|join|leave`, as the paired operator.
 */
import type { FastifyInstance } from 'fastify';
import { PolicyError, UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { flag, names, requiredText, text } from './api-admin-fields.js';
import { storeOf } from './http.js';

type LoginParams = { Params: { login: string } };

/** A CSV of users is at most this long (characters). */
const IMPORT_MAX = 4 * 1024 * 1024;

export function registerUserRoutes(app: FastifyInstance, store: Store): void {
  app.get<{ Querystring: { q?: string; resource?: string } }>('/api/admin/users', async (req) => {
    const { listUsers } = await import('../provision/users.js');
    const q = (req.query.q ?? '').trim().toLowerCase();
    const all = await listUsers(store, { resource: req.query.resource || undefined });
    // Login, name, email or phone contain the search text.
    return q ? all.filter((u) => [u.login, u.name, u.email, u.phone].some((v) => v?.toLowerCase().includes(q))) : all;
  });

  app.get<LoginParams>('/api/admin/users/:login', async (req) => {
    const { findUser, viewUser } = await import('../provision/users.js');
    return viewUser(store, await findUser(store, req.params.login));
  });

  app.post('/api/admin/users', async (req) => {
    const { addUser, viewUser } = await import('../provision/users.js');
    const b = req.body;
    const as = storeOf(req, store);
    const u = await addUser(as, {
      login: requiredText(b, 'login'),
      name: text(b, 'name'),
      email: text(b, 'email'),
      phone: text(b, 'phone'),
      password: text(b, 'password'),
      resources: names(b, 'resources'),
    });
    return viewUser(as, u);
  });

  /** A CSV of users (the file's text), all or nothing; the report lists each bad line. */
  app.post('/api/admin/users/import', async (req) => {
    const { importUsers } = await import('../provision/users-import.js');
    const b = req.body as { csv?: unknown } | null;
    if (typeof b?.csv !== 'string' || b.csv.length > IMPORT_MAX)
      throw new UsageError(`send the CSV as {fileName, csv} (at most ${IMPORT_MAX} characters)`, 'bad-field');
    const fileName = (text(b, 'fileName') ?? 'users.csv').replace(/[^\w.-]/g, '_');
    return importUsers(storeOf(req, store), fileName, { text: b.csv });
  });

  app.post<LoginParams>('/api/admin/users/:login/membership', async (req) => {
    const { setMembership, viewUser } = await import('../provision/users.js');
    const as = storeOf(req, store);
    const u = await setMembership(as, req.params.login, requiredText(req.body, 'resource'), flag(req.body, 'join'));
    return viewUser(as, u);
  });

  registerUserAdminRoutes(app, store);
  registerDirectorySyncRoutes(app, store);
}

/** A field to change: '' clears it, undefined (left out) keeps it, as `user edit --email ""` does. */
function edited(body: unknown, key: string): string | undefined {
  const v = (body as Record<string, unknown> | null)?.[key];
  return v === '' ? '' : text(body, key);
}

/** The directory a user comes from, or null for a local user. */
async function directoryOf(store: Store, login: string): Promise<string | null> {
  const { findUser } = await import('../provision/users.js');
  const account = await store.directories.accountOf((await findUser(store, login)).id);
  return account ? ((await store.directories.get(account.directoryId))?.name ?? null) : null;
}

/** A directory user's contact fields and password are the directory's: the console refuses to change them here. */
async function refuseDirectoryUser(store: Store, login: string, what: string): Promise<void> {
  const directory = await directoryOf(store, login);
  if (directory !== null)
    throw new PolicyError(`${login} comes from the directory ${directory}: ${what} there, not here`, {
      code: 'directory-user',
    });
}

/** `user edit | reset-password | remove`: the same services, as the paired operator. */
function registerUserAdminRoutes(app: FastifyInstance, store: Store): void {
  app.get<LoginParams>('/api/admin/users/:login/directory', async (req) => ({
    directory: await directoryOf(store, req.params.login),
  }));

  app.post<LoginParams>('/api/admin/users/:login/edit', async (req) => {
    const { editUser } = await import('../provision/users-admin.js');
    const { viewUser } = await import('../provision/users.js');
    await refuseDirectoryUser(store, req.params.login, 'change their details');
    const b = req.body;
    const as = storeOf(req, store);
    // A field sent (even empty, which clears it) is changed; one left out stays.
    const edit = { email: edited(b, 'email'), phone: edited(b, 'phone'), name: edited(b, 'name') };
    if (Object.values(edit).every((v) => v === undefined))
      throw new UsageError('give at least one of email, phone, name', 'missing-field');
    return viewUser(as, await editUser(as, req.params.login, edit));
  });

  app.post<LoginParams>('/api/admin/users/:login/reset-password', async (req) => {
    const { resetPassword } = await import('../provision/users-admin.js');
    const { viewUser } = await import('../provision/users.js');
    await refuseDirectoryUser(store, req.params.login, 'reset their password');
    const as = storeOf(req, store);
    const clear = flag(req.body, 'clear');
    const password = clear ? null : requiredText(req.body, 'password');
    const r = await resetPassword(as, req.params.login, password);
    return { ...(await viewUser(as, r.user)), sessionsEnded: r.sessionsEnded };
  });

  app.post<LoginParams>('/api/admin/users/:login/remove', async (req) => {
    const { removeUser } = await import('../provision/users-admin.js');
    return removeUser(storeOf(req, store), req.params.login);
  });
}

/** The directories, and `directory sync` ("Sync now") with its per-Resource report. */
function registerDirectorySyncRoutes(app: FastifyInstance, store: Store): void {
  app.get('/api/admin/directories', async () => {
    const { listDirectories } = await import('../provision/directories.js');
    return (await listDirectories(store)).map((d) => ({ name: d.name, links: d.links }));
  });

  app.post<{ Params: { name: string } }>('/api/admin/directories/:name/sync', async (req) => {
    const { syncDirectory } = await import('../provision/directory-sync.js');
    return syncDirectory(storeOf(req, store), req.params.name);
  });
}
