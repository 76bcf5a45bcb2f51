import type { Command } from 'commander';
import { intOption, table, withStore } from '../context.js';
import type { ResourceView } from '../../provision/resources.js';

function describe(v: ResourceView): string {
  return [
    `name          ${v.name}`,
    `url           ${v.url ?? '-'}`,
    `lock after    ${v.lockAfter} failed codes`,
    `window        ±${v.window} steps (enrollment codes)`,
    `sync window   ±${v.syncWindow} steps (synchronize)`,
    `actions       ${v.actions.length ? v.actions.join(', ') : 'none allowed'}`,
    `token types   ${v.tokenTypes.length ? v.tokenTypes.join(', ') : 'none allowed'}`,
    `users         ${v.users}`,
    `tokens        ${v.tokens} (${v.assigned} assigned)`,
  ].join('\n');
}

export function registerResource(program: Command): void {
  const resource = program
    .command('resource')
    .description('Resources (a VPN, a portal) and the rules of their self-service portal')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith resource create vpn --url https://sso.example.com/vpn\n  tokensmith resource allow vpn --actions enroll,synchronize --token-types programmable',
    );

  registerResourceCreate(resource);
  registerResourceSet(resource);

  registerAllowDeny(resource);

  resource
    .command('show <name>')
    .description('the configuration of a Resource: address, limits, allowed actions and token types, counts')
    .addHelpText('after', '\nExample:\n  tokensmith resource show vpn --json')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { findResource, viewResource } = await import('../../provision/resources.js');
        const v = await viewResource(store, await findResource(store, name));
        out.result(v, () => describe(v));
      });
    });

  registerList(resource);
  registerResourceLink(resource);
}

/** `resource list`. */
function registerList(resource: Command): void {
  resource
    .command('list')
    .description('every Resource with its allowed actions')
    .action(async (_o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { listResources } = await import('../../provision/resources.js');
        const all = await listResources(store);
        out.result(all, () =>
          all.length === 0
            ? 'no Resources (create one with: tokensmith resource create <name>)'
            : table(
                ['NAME', 'USERS', 'TOKENS', 'ACTIONS', 'TOKEN TYPES'],
                all.map((v) => [
                  v.name,
                  v.users,
                  v.tokens,
                  v.actions.join(',') || null,
                  v.tokenTypes.join(',') || null,
                ]),
              ),
        );
      });
    });
}

/** `resource set`: the Self-Service address and limits after creation (the station's Save uses the same service). */
function registerResourceSet(resource: Command): void {
  resource
    .command('set <name>')
    .description("change a Resource's Self-Service address and limits; what is not named stays")
    .option('--url <address>', 'the address of its self-service portal ("" clears it)')
    .option('--lock-after <n>', 'failed codes before a token is locked for enrollment', intOption('--lock-after'))
    .option('--window <n>', 'accepted offset of an enrollment code, in time steps', intOption('--window'))
    .option('--sync-window <n>', 'search window of synchronize, in time steps', intOption('--sync-window'))
    .addHelpText('after', '\nExample:\n  tokensmith resource set vpn --url https://sso.example.com/vpn --window 3')
    .action(
      async (
        name: string,
        o: { url?: string; lockAfter?: number; window?: number; syncWindow?: number },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { setResourceLimits } = await import('../../provision/resource-settings.js');
          const { viewResource } = await import('../../provision/resources.js');
          const { resource: r } = await setResourceLimits(store, name, o);
          const v = await viewResource(store, r);
          out.result(v, () => describe(v));
        });
      },
    );
}

/** `resource create`: every portal action and token type is off until allowed. */
function registerResourceCreate(resource: Command): void {
  resource
    .command('create <name>')
    .description('create a Resource; every portal action and token type is off until allowed')
    .option('--url <address>', 'the address of its self-service portal')
    .option(
      '--lock-after <n>',
      'failed codes before a token is locked for enrollment (default 5)',
      intOption('--lock-after'),
    )
    .option('--window <n>', 'accepted offset of an enrollment code, in time steps (default 2)', intOption('--window'))
    .option(
      '--sync-window <n>',
      'search window of synchronize, in time steps (default 1000)',
      intOption('--sync-window'),
    )
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith resource create vpn --url https://sso.example.com/vpn --lock-after 5',
    )
    .action(
      async (
        name: string,
        o: { url?: string; lockAfter?: number; window?: number; syncWindow?: number },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { createResource, viewResource } = await import('../../provision/resources.js');
          const r = await createResource(store, { name, ...o });
          out.result(
            await viewResource(store, r),
            `created Resource ${r.name}; nothing is allowed yet: tokensmith resource allow ${r.name} --actions enroll --token-types programmable`,
          );
        });
      },
    );
}

/** `resource allow` and `resource deny`. */
function registerAllowDeny(resource: Command): void {
  for (const allow of [true, false]) {
    resource
      .command(`${allow ? 'allow' : 'deny'} <name>`)
      .description(
        allow ? 'allow portal actions and enrollable token types' : 'take portal actions and token types back',
      )
      .option(
        '--actions <list>',
        'enroll, reissue, assign-existing, unassign, synchronize, set-pin, remove-pin, change-password, change-email, change-phone, change-login, change-name',
      )
      .option('--token-types <list>', 'programmable, classic, software')
      .addHelpText(
        'after',
        `\nExample:\n  tokensmith resource ${allow ? 'allow' : 'deny'} vpn --actions enroll,synchronize --token-types programmable`,
      )
      .action(async (name: string, o: { actions?: string; tokenTypes?: string }, cmd: Command) => {
        await withStore(cmd, async (store, out) => {
          const { setResourcePermissions, viewResource } = await import('../../provision/resources.js');
          const r = await setResourcePermissions(store, name, { allow, ...o });
          const v = await viewResource(store, r);
          out.result(v, () => describe(v));
        });
      });
  }
}

/** `resource link`: the Resource's users become the members of a directory group at each sync. */
function registerResourceLink(resource: Command): void {
  resource
    .command('link <name>')
    .description("take the Resource's users from a directory group (at each tokensmith directory sync)")
    .requiredOption('--directory <name>', 'the directory (tokensmith directory add)')
    .requiredOption('--group <dn>', "the group's DN; AD nested groups count (in-chain rule)")
    .option('--on-leave <rule>', "a leaver's token: keep (default, reported), unassign or disable", 'keep')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith resource link vpn --directory corp --group "cn=vpn,ou=groups,dc=example,dc=org" --on-leave unassign',
    )
    .action(async (name: string, o: { directory: string; group: string; onLeave: string }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { linkResource } = await import('../../provision/directories.js');
        const l = await linkResource(store, name, o);
        out.result(
          l,
          `linked ${l.resource} to ${l.group} in directory ${l.directory} (on leave: ${l.onLeave}); run: tokensmith directory sync ${l.directory}`,
        );
      });
    });
}
