/**
 * Typed errors. Each carries the exit code of the CLI contract, so a service
 * can fail the same way whether the CLI, the web station or a test called it.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  device: 3,
  data: 4,
  policy: 5,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class TokensmithError extends Error {
  readonly exitCode: ExitCodeValue;
  /** Short machine-readable code, e.g. "wrong-master-key". */
  readonly code: string;
  /** Where it happened (file:line, serial, key package #), when that helps. */
  readonly where?: string;
  /** The command already wrote its documented --json result (e.g. audit verify's report): print no error object on stdout. */
  readonly resultPrinted?: boolean;
  constructor(
    message: string,
    opts: { exitCode?: ExitCodeValue; code?: string; where?: string; cause?: unknown; resultPrinted?: boolean } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.failure;
    this.code = opts.code ?? 'failure';
    this.where = opts.where;
    if (opts.resultPrinted) this.resultPrinted = true;
  }
}

/** Bad command-line usage that commander could not catch (exit 2). */
export class UsageError extends TokensmithError {
  constructor(message: string, code = 'usage') {
    super(message, { exitCode: ExitCode.usage, code });
  }
}

/** Bad input, a conflict, a wrong key or password (exit 4). */
export class DataError extends TokensmithError {
  constructor(message: string, opts: { code?: string; where?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.data, code: opts.code ?? 'data' });
  }
}

/** Something the device did or did not do (exit 3). */
export class DeviceError extends TokensmithError {
  constructor(message: string, opts: { code?: string; where?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.device, code: opts.code ?? 'device' });
  }
}

/** Refused by a rule: a Resource's policy, a lockout risk, an overwrite without --force (exit 5). */
export class PolicyError extends TokensmithError {
  constructor(message: string, opts: { code?: string; where?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: ExitCode.policy, code: opts.code ?? 'policy' });
  }
}

/** Not found is bad input from the caller's point of view (exit 4). */
export class NotFoundError extends DataError {
  constructor(message: string) {
    super(message, { code: 'not-found' });
  }
}

export function exitCodeOf(err: unknown): ExitCodeValue {
  return err instanceof TokensmithError ? err.exitCode : ExitCode.failure;
}
