/**
 * What every command shares: the global flags, the store, and output that
 * keeps stdout for results (JSON with --json) and stderr for everything else.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { escapeForTerminal, jsonForTerminal } from '../core/text-guard.js';
import type { Store } from '../store/types.js';

// The commands import their output helpers from here; the table itself lives in core so src/provision can use it too.
export { table } from '../core/table.js';

export interface GlobalOptions {
  db?: string;
  json?: boolean;
  yes?: boolean;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export class Output {
  constructor(
    readonly json: boolean,
    readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** A result: the JSON value with --json, else the text. */
  result(value: unknown, text: string | (() => string)): void {
    if (this.json) this.stdout.write(jsonForTerminal(value) + '\n');
    else this.stdout.write(escapeForTerminal(typeof text === 'function' ? text() : text).replace(/\n?$/, '\n'));
  }

  /** A message for the person at the terminal: always stderr, so --json stays clean. */
  info(message: string): void {
    this.stderr.write(escapeForTerminal(message).replace(/\n?$/, '\n'));
  }

  warn(message: string): void {
    this.stderr.write(escapeForTerminal(`warning: ${message}`).replace(/\n?$/, '\n'));
  }

  /** Whether a person can answer a prompt. */
  get interactive(): boolean {
    return Boolean(process.stdin.isTTY && (process.stderr as NodeJS.WriteStream).isTTY);
  }
}

export function outputOf(cmd: Command): Output {
  return new Output(Boolean(globalsOf(cmd).json));
}

/**
 * The commands that add to a store and so may create one: every other command refuses a database that
 * is not there (`no-database`), so a mistyped --db never leaves a new database and key behind.
 */
const CREATING_COMMANDS = [
  /^tokens add$/,
  /^import$/,
  /^resource create$/,
  /^user (add|import)$/,
  /^directory add$/,
  /^entra connect$/,
  /^device\b/,
  /^db migrate$/,
];

/** The command's full name without the program's: "tokens list", "device flash". */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Opens the store named by --db / TOKENSMITH_DB, runs fn, and closes it whatever happens. */
export async function withStore<T>(cmd: Command, fn: (store: Store, out: Output) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/index.js');
  const out = outputOf(cmd);
  const path = commandPath(cmd);
  const store = await openStore({
    db: globalsOf(cmd).db,
    create: CREATING_COMMANDS.some((re) => re.test(path)),
    notice: (message) => out.info(message),
  });
  try {
    return await fn(store, out);
  } finally {
    await store.close();
  }
}

/** Parses an integer option value for commander, failing as a usage error. */
export function intOption(name: string, opts: { min?: number } = {}) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'`);
    }
    const n = Number(value);
    if (opts.min !== undefined && n < opts.min)
      throw new InvalidArgumentError(`${name} must be at least ${opts.min}, got ${n}`);
    return n;
  };
}
