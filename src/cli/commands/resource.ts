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
  registerPermissions(resource);
  registerResourceViews(resource);
}

/** `resource create`: a new Resource with nothing allowed. */
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

/** `resource allow` and `resource deny`: the portal actions and enrollable token types. */
function registerPermissions(resource: Command): void {
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

/** `resource show` and `resource list`: read-only views. */
function registerResourceViews(resource: Command): void {
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
