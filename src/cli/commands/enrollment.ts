import type { Command } from 'commander';
import { outputOf, table } from '../context.js';

export function registerEnrollment(program: Command): void {
  const enrollment = program
    .command('enrollment')
    .description('work with enrollment packages (export --format enrollment)');

  enrollment
    .command('inspect <file>')
    .description('check an enrollment package (format, version, SHA-256 digest) and print its contents without secrets')
    .addHelpText(
      'after',
      '\nExample:\n  tokensmith enrollment inspect vpn.enroll\n\nExit 4 when the digest does not match (the file was changed or damaged).',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { inspectEnrollmentFile } = await import('../../export/inspect.js');
      const s = await inspectEnrollmentFile(file);
      out.result(s, () => {
        const lines = [
          `${file}: ${s.format} version ${s.version}, SHA-256 ${s.digest} (digest OK)`,
          `created ${s.createdAt} by ${s.createdBy} (${s.generator})`,
          `resource ${s.resource.name}: url ${s.resource.url ?? '-'}, lock after ${s.resource.lockAfter}, window ${s.resource.window}, sync window ${s.resource.syncWindow}`,
          `  actions: ${s.resource.actions.join(', ') || 'none'}; enrollable token types: ${s.resource.tokenTypes.join(', ') || 'none'}`,
          `seeds: ${s.seeds.format}, ${s.seeds.keyPackages} key package(s), ${s.seeds.encrypted ? `encrypted (${s.seeds.cipher}, ${s.seeds.mac}, ${s.seeds.keyDerivation})` : 'PLAINTEXT'}`,
          '',
          `users (${s.users.length}):`,
          s.users.length
            ? table(
                ['LOGIN', 'NAME', 'EMAIL', 'PHONE', 'PASSWORD'],
                s.users.map((u) => [u.login, u.name, u.email, u.phone, u.hasPassword ? 'set' : 'none']),
              )
            : '  none',
          '',
          `tokens (${s.tokens.length}):`,
          table(
            [
              'SERIAL',
              'MANUFACTURER',
              'MODEL',
              'KIND',
              'TYPE',
              'ALG',
              'DIGITS',
              'PERIOD',
              'COUNTER',
              'DRIFT',
              'STATE',
              'USER',
            ],
            s.tokens.map((t) => [
              t.serial,
              t.manufacturer || null,
              t.model,
              t.kind,
              t.type,
              t.algorithm,
              t.digits,
              t.type === 'totp' ? t.period : null,
              t.type === 'hotp' ? t.counter : null,
              t.driftSteps,
              t.state,
              t.user,
            ]),
          ),
          '',
          `assignments (${s.assignments.length}):`,
          s.assignments.length
            ? table(
                ['SERIAL', 'USER', 'ASSIGNED', 'ENROLLED'],
                s.assignments.map((a) => [a.serial, a.user, a.assignedAt, a.enrolledAt]),
              )
            : '  none',
        ];
        return lines.join('\n');
      });
    });
}
