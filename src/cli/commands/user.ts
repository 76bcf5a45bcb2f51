import type { Command } from 'commander';
import { DataError, UsageError } from '../../core/errors.js';
import { table, withStore } from '../context.js';
import type { UserView } from '../../provision/users.js';
import { registerUserSignout } from './user-signout.js';
import { readPasswordLine } from '../password-stdin.js';
import { registerUserAdmin } from './user-admin.js';

function describe(v: UserView): string {
  return [
    `login         ${v.login}`,
    `name          ${v.name ?? '-'}`,
    `email         ${v.email ?? '-'}`,
    `phone         ${v.phone ?? '-'}`,
    `password      ${v.hasPassword ? 'set' : 'none'}`,
    `can sign in   ${v.canSignIn ? 'yes' : 'no (needs a password or an email)'}`,
    `resources     ${v.resources.join(', ') || '-'}`,
    `tokens        ${v.tokens.map((t) => `${t.serial} (${t.resource}, ${t.state})`).join(', ') || '-'}`,
  ].join('\n');
}

const collect = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('users of Resources: add, import from CSV, show, edit, reset a password, remove')
    .addHelpText(
      'after',
      '\nExample:\n  printf "%s\\n" "$PW" | tokensmith user add alice --email alice@example.com --password-stdin --resource vpn',
    );

  registerUserAdd(user);
  registerUserImport(user);
  registerUserViews(user);
  registerMembership(user);
  registerUserSignout(user);
  registerUserAdmin(user);
}

function registerUserAdd(user: Command): void {
  user
    .command('add <login>')
    .description(
      'add a user to one or more Resources; a password (scrypt-hashed, never shown) or an email lets them sign in to the portal',
    )
    .requiredOption(
      '--resource <name>',
      'the Resource the user belongs to (repeat or comma-separate for several)',
      collect,
    )
    .option('--name <name>', 'display name')
    .option('--email <e>', 'email: where portal sign-in codes go when the user has no password')
    .option('--phone <p>', 'phone number')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .addHelpText('after', '\nExample:\n  tokensmith user add bob --email bob@example.com --resource vpn')
    .action(
      async (
        login: string,
        o: { resource: string[]; name?: string; email?: string; phone?: string; passwordStdin?: boolean },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { addUser, viewUser } = await import('../../provision/users.js');
          const password = o.passwordStdin ? await readPasswordLine(out) : undefined;
          const u = await addUser(store, {
            login,
            name: o.name,
            email: o.email,
            phone: o.phone,
            password,
            resources: o.resource,
          });
          const v = await viewUser(store, u);
          if (!v.canSignIn)
            out.warn(
              `user '${v.login}' has neither a password nor an email: they cannot sign in to a self-service portal`,
            );
          out.result(v, `added user ${v.login} to ${v.resources.join(', ')}${v.hasPassword ? ' (password set)' : ''}`);
        });
      },
    );
}

function registerUserImport(user: Command): void {
  user
    .command('import <csv>')
    .description(
      'import users from CSV (columns login, email, phone, password, resources, token); all or nothing, with an error per bad line',
    )
    .addHelpText(
      'after',
      '\nresources: Resource names separated by ";"; token: a serial, assigned in the first Resource listed.\nExample file:\n  login,email,phone,password,resources,token\n  alice,alice@example.com,+41 79 000 00 00,s3cret-pass,vpn;wiki,1234567\n\n  tokensmith user import users.csv',
    )
    .option(
      '--on-existing <what>',
      'a login already in the store: fail (the default; nothing is imported), skip it, or update it (non-empty fields, Resources joined, token assigned)',
      'fail',
    )
    .action(async (csv: string, o: { onExisting: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { importUsers } = await import('../../provision/users-import.js');
        if (!['fail', 'skip', 'update'].includes(o.onExisting))
          throw new UsageError(`--on-existing: use fail, skip or update, got '${o.onExisting}'`);
        const r = await importUsers(store, csv, { onExisting: o.onExisting as 'fail' | 'skip' | 'update' });
        if (r.errors.length > 0) {
          for (const e of r.errors) out.info(`${e.where}: ${e.message}`);
          throw new DataError(
            `nothing imported: ${r.errors.length} bad line(s) in ${r.file}: ${r.errors.map((e) => `${e.where}: ${e.message}`).join('; ')}`,
            {
              code: 'import-rejected',
              where: r.errors[0]!.where,
            },
          );
        }
        for (const l of r.cannotSignIn)
          out.warn(`user '${l}' has neither a password nor an email: they cannot sign in to a self-service portal`);
        out.result(
          r,
          `imported ${r.imported} user(s) from ${r.file}${r.updated ? `, updated ${r.updated}` : ''}${r.skipped ? `, skipped ${r.skipped} already there` : ''}${r.assigned ? `, assigned ${r.assigned} token(s)` : ''}`,
        );
      });
    });
}

/** `user show` and `user list`: read-only views, never the password. */
function registerUserViews(user: Command): void {
  user
    .command('show <login>')
    .description('one user: contact, whether they can sign in, Resources and tokens (never the password)')
    .action(async (login: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { findUser, viewUser } = await import('../../provision/users.js');
        const v = await viewUser(store, await findUser(store, login));
        out.result(v, () => describe(v));
      });
    });

  user
    .command('list')
    .description('list users, optionally of one Resource')
    .option('--resource <name>', 'only users of this Resource')
    .action(async (o: { resource?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { listUsers } = await import('../../provision/users.js');
        const all = await listUsers(store, o);
        out.result(all, () =>
          all.length === 0
            ? 'no users'
            : table(
                ['LOGIN', 'EMAIL', 'SIGN-IN', 'RESOURCES', 'TOKENS'],
                all.map((v) => [
                  v.login,
                  v.email,
                  v.hasPassword ? 'password' : v.email ? 'email code' : 'none',
                  v.resources.join(','),
                  v.tokens.map((t) => t.serial).join(',') || null,
                ]),
              ),
        );
      });
    });
}

/** `user join` and `user leave`: membership of a Resource. */
function registerMembership(user: Command): void {
  for (const join of [true, false]) {
    user
      .command(`${join ? 'join' : 'leave'} <login>`)
      .description(
        join
          ? 'add an existing user to a Resource'
          : 'take a user out of a Resource (refused while they hold a token there)',
      )
      .requiredOption('--resource <name>', 'the Resource')
      .action(async (login: string, o: { resource: string }, cmd: Command) => {
        await withStore(cmd, async (store, out) => {
          const { setMembership, viewUser } = await import('../../provision/users.js');
          const v = await viewUser(store, await setMembership(store, login, o.resource, join));
          out.result(v, `${v.login} is ${join ? 'now' : 'no longer'} a user of ${o.resource}`);
        });
      });
  }
}
