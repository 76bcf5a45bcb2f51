/**
 * `device molto2 lock|unlock|set-key|factory-reset`: Molto2 device settings
 * (not per-profile, so not `device <verb>`s), registered by the CLI from this
 * declaration (contract.ts FamilyCommandGroup).
 */
import type { FamilyCommand, FamilyCommandContext, FamilyCommandGroup } from '../contract.js';
import type { AdminAction } from './profile-admin.js';

const WORDS: Record<AdminAction['kind'], string> = {
  lock: 'screen locked',
  unlock: 'screen unlocked',
  'set-key': 'new customer key sent',
  'factory-reset': 'factory reset requested',
};

async function admin(ctx: FamilyCommandContext, action: AdminAction): Promise<void> {
  const { molto2Admin } = await import('./profile-admin.js');
  const key = ctx.options.customerKey;
  const r = await molto2Admin(ctx.store, ctx.transport, action, {
    customerKey: typeof key === 'string' ? key : undefined,
  });
  const press = r.waitingForButton ? ': the Molto2 now waits: press the ▲ button on it to confirm' : '';
  ctx.output.result(r, `Molto2 ${r.deviceSerial}: ${WORDS[r.action as AdminAction['kind']]}${press}`);
}

const screen = (kind: 'lock' | 'unlock'): FamilyCommand => ({
  name: kind,
  description: `${kind} the screen (firmware 2.1+)`,
  example: `tokensmith device molto2 ${kind}`,
  run: (ctx) => admin(ctx, { kind }),
});

export const MOLTO2_COMMANDS: FamilyCommandGroup = {
  name: 'molto2',
  description: 'Molto2 device settings: lock or unlock the screen, change the customer key, factory reset',
  options: [
    { flag: '--customer-key <key>', description: 'the customer key, 32 hex digits or text (default: the factory key)' },
  ],
  commands: [
    screen('lock'),
    screen('unlock'),
    {
      name: 'set-key',
      description:
        'change the customer key (the device asks for the ▲ button); keep the new key: every later command needs it',
      options: [
        {
          flag: '--new-customer-key <key>',
          description: 'the new key, 32 hex digits or text; never logged',
          required: true,
        },
      ],
      example: 'tokensmith device molto2 set-key --new-customer-key "$(cat molto2.key)"',
      run: (ctx) => admin(ctx, { kind: 'set-key', newKey: ctx.options.newCustomerKey as string }),
    },
    {
      name: 'factory-reset',
      description:
        'erase every profile and restore the factory customer key (the device asks for the ▲ button); needs --force',
      options: [{ flag: '--force', description: 'yes, erase every profile' }],
      example: 'tokensmith device molto2 factory-reset --force',
      async check(o) {
        if (o.force) return;
        const { PolicyError } = await import('../../../core/errors.js');
        throw new PolicyError(
          'refused: a factory reset erases every profile of the Molto2 and restores the factory customer key; add --force to do it',
          { code: 'force-needed' },
        );
      },
      run: (ctx) => admin(ctx, { kind: 'factory-reset' }),
    },
  ],
};
