import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { intOption, table, withStore } from '../context.js';
import type { DirectoryView } from '../../provision/directories.js';
import { registerDirectorySync } from './directory-sync.js';

function describe(v: DirectoryView): string {
  return [
    `name          ${v.name}`,
    `preset        ${v.preset}`,
    `url           ${v.url}${v.starttls ? ' (StartTLS)' : ''}`,
    `CA file       ${v.caFile ?? 'the system CAs'}`,
    `bind DN       ${v.bindDn} (password sealed)`,
    `base DN       ${v.baseDn}`,
    `user filter   ${v.userFilter}`,
    `attributes    login ${v.loginAttr}, email ${v.emailAttr}, phone ${v.phoneAttr}, name ${v.nameAttr}`,
    `disabled      ${v.disabled}`,
    `groups        ${v.groups}`,
    `accounts      ${v.accounts}`,
    ...(v.links.length
      ? v.links.map((l) => `linked        ${l.resource} <- ${l.group} (on leave: ${l.onLeave})`)
      : ['linked        no Resource (tokensmith resource link <resource> --directory <name> --group <DN>)']),
  ].join('\n');
}

interface AddOptions {
  preset?: string;
  url: string;
  starttls?: boolean;
  caFile?: string;
  bindDn: string;
  bindPassword?: string;
  bindPasswordFile?: string;
  baseDn: string;
  userFilter?: string;
  loginAttr?: string;
  emailAttr?: string;
  phoneAttr?: string;
  nameAttr?: string;
  disabledAttr?: string;
  groups?: string;
  timeout?: number;
  pageSize?: number;
}

async function bindPasswordOf(o: AddOptions): Promise<string> {
  if (o.bindPassword !== undefined && o.bindPasswordFile !== undefined)
    throw new UsageError('give --bind-password-file or --bind-password, not both');
  if (o.bindPassword !== undefined) return o.bindPassword;
  if (o.bindPasswordFile === undefined)
    throw new UsageError('--bind-password-file is required (the service account password, first line)');
  const { readSecretFile } = await import('../secrets.js');
  return readSecretFile(o.bindPasswordFile, '--bind-password-file');
}

function registerAdd(directory: Command): void {
  directory
    .command('add <name>')
    .description('add an LDAP or Active Directory directory; its bind password is sealed under the master key')
    .requiredOption('--url <url>', 'ldap://host[:port] or ldaps://host[:port]')
    .option(
      '--preset <preset>',
      'openldap or ad: attribute names, person filter, disabled rule, group lookup',
      'openldap',
    )
    .option('--starttls', 'upgrade ldap:// with StartTLS before binding')
    .option('--ca-file <file>', 'PEM CA the server certificate must chain to (default: the system CAs)')
    .requiredOption('--bind-dn <dn>', 'the service account that reads people and groups')
    .option('--bind-password-file <file>', 'the service account password (first line)')
    .option('--bind-password <pw>', 'the password in argv (visible to other users; prefer --bind-password-file)')
    .requiredOption('--base-dn <dn>', 'where people are searched')
    .option(
      '--user-filter <filter>',
      'LDAP filter of person entries (preset: openldap (objectClass=inetOrgPerson), ad (&(objectCategory=person)(objectClass=user)))',
    )
    .option('--login-attr <attr>', 'uid, sAMAccountName or userPrincipalName (preset: uid / sAMAccountName)')
    .option('--email-attr <attr>', 'mail attribute; portal sign-in codes go there (preset: mail)')
    .option('--phone-attr <attr>', 'phone attribute (preset: telephoneNumber)')
    .option('--name-attr <attr>', 'display name attribute (preset: displayName)')
    .option(
      '--disabled-attr <attr>',
      'an attribute whose presence marks a disabled account (preset: ad userAccountControl bit 2, openldap pwdAccountLockedTime)',
    )
    .option(
      '--groups <mode>',
      'in-chain (AD nested groups), memberof (OpenLDAP memberof overlay) or group-entry (member / memberUid)',
    )
    .option('--timeout <ms>', 'limit of each LDAP operation (default 30000)', intOption('--timeout', { min: 100 }))
    .option('--page-size <n>', 'entries per page of a paged search (default 500)', intOption('--page-size', { min: 1 }))
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith directory add corp --preset ad --url ldaps://dc1.corp.example --ca-file corp-ca.pem \\\n    --bind-dn "CN=tokensmith,CN=Users,DC=corp,DC=example" --bind-password-file bind.pw --base-dn "DC=corp,DC=example"',
    )
    .action(async (name: string, o: AddOptions, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { addDirectory, viewDirectory } = await import('../../provision/directories.js');
        const bindPassword = await bindPasswordOf(o);
        const { timeout, bindPassword: _p, bindPasswordFile: _f, ...rest } = o;
        const d = await addDirectory(store, name, { ...rest, timeoutMs: timeout, bindPassword });
        const v = await viewDirectory(store, d);
        out.result(v, `added directory ${d.name}; check it with: tokensmith directory test ${d.name}`);
      });
    });
}

function registerViews(directory: Command): void {
  directory
    .command('list')
    .description('every directory with its address and linked Resources')
    .action(async (_o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { listDirectories } = await import('../../provision/directories.js');
        const all = await listDirectories(store);
        out.result(all, () =>
          all.length === 0
            ? 'no directories (add one with: tokensmith directory add <name> --url ... )'
            : table(
                ['NAME', 'PRESET', 'URL', 'ACCOUNTS', 'RESOURCES'],
                all.map((v) => [v.name, v.preset, v.url, v.accounts, v.links.map((l) => l.resource).join(',') || null]),
              ),
        );
      });
    });
  directory
    .command('show <name>')
    .description('the settings of a directory (never its password) and its linked Resources')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { findDirectory, viewDirectory } = await import('../../provision/directories.js');
        const v = await viewDirectory(store, await findDirectory(store, name));
        out.result(v, () => describe(v));
      });
    });
}

function registerTestRemove(directory: Command): void {
  directory
    .command('test <name>')
    .description("connect, bind as the service account, count the linked groups' members; changes nothing")
    .option('--login <login>', 'also look this person up')
    .action(async (name: string, o: { login?: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { testDirectory } = await import('../../provision/directories.js');
        const r = await testDirectory(store, name, o);
        out.result(r, () =>
          [
            `directory ${r.directory}: bind ok at ${r.url} (TLS: ${r.tls})`,
            ...(r.login
              ? [
                  r.login.found
                    ? `login ${r.login.login}: ${r.login.dn}${r.login.disabled ? ' (disabled)' : ''}`
                    : `login ${r.login.login}: not found`,
                ]
              : []),
            ...r.groups.map((g) => `${g.resource}: ${g.members} members in ${g.group}`),
          ].join('\n'),
        );
      });
    });
  directory
    .command('remove <name>')
    .description('remove a directory and its links; its users stay but leave the linked Resources (sessions end)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { removeDirectory } = await import('../../provision/directories.js');
        const r = await removeDirectory(store, name);
        out.result(
          r,
          `removed directory ${r.name}: its ${r.accounts} users stay, without a password, and left the linked Resources (${r.removedFromResources} memberships)`,
        );
      });
    });
}

export function registerDirectory(program: Command): void {
  const directory = program
    .command('directory')
    .description('LDAP and Active Directory sources of users: add, test, sync')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith directory add corp --preset openldap --url ldap://ldap.example.org --starttls --ca-file ca.pem \\\n    --bind-dn cn=tokensmith,dc=example,dc=org --bind-password-file bind.pw --base-dn dc=example,dc=org\n  tokensmith resource link vpn --directory corp --group cn=vpn,ou=groups,dc=example,dc=org\n  tokensmith directory sync corp',
    );
  registerAdd(directory);
  registerViews(directory);
  registerTestRemove(directory);
  registerDirectorySync(directory);
}
