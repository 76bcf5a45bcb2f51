/**
 * Email for the self-service portal (one-time sign-in codes). With an SMTP
 * URL (`tokensmith portal --smtp-url`, or TOKENSMITH_SMTP_URL) it goes out by
 * SMTP through nodemailer, loaded only then; without one, each message is
 * written as an .eml file into an outbox folder beside the database (for the
 * demo and tests), and files older than a sign-in code's life are removed.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { TokensmithError, UsageError } from '../core/errors.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Sends one message; returns where it went (a file path, an SMTP message id). */
  send(msg: MailMessage): Promise<{ delivered: string }>;
  /** Lets go of connections (SMTP) so the process can end. */
  close?(): Promise<void>;
}

const DEFAULT_FROM = 'tokensmith <tokensmith@localhost>';
/** An outbox message holds a sign-in code valid 10 minutes: after that the file is only a leak. */
export const OUTBOX_KEEP_MS = 10 * 60 * 1000;

function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** Writes RFC 5322 messages into a folder, one file each (mode 0600: they hold sign-in codes). */
export class OutboxMailer implements Mailer {
  constructor(
    readonly dir: string,
    private readonly from = DEFAULT_FROM,
    private readonly keepMs = OUTBOX_KEEP_MS,
  ) {}

  /** Removes messages older than keepMs; returns how many went. */
  prune(now = Date.now()): number {
    let removed = 0;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (!name.endsWith('.eml')) continue;
      const path = join(this.dir, name);
      try {
        if (now - statSync(path).mtimeMs > this.keepMs) {
          rmSync(path, { force: true });
          removed++;
        }
      } catch {
        // Gone already (another process pruned it).
      }
    }
    return removed;
  }

  async send(msg: MailMessage): Promise<{ delivered: string }> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.prune();
    const at = new Date();
    const name = `${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
    const path = join(this.dir, name);
    const body = [
      `From: ${headerSafe(this.from)}`,
      `To: ${headerSafe(msg.to)}`,
      `Subject: ${headerSafe(msg.subject)}`,
      `Date: ${at.toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      msg.text,
      '',
    ].join('\r\n');
    writeFileSync(path, body, { mode: 0o600 });
    return { delivered: path };
  }
}

type SmtpTransport = { sendMail(m: Record<string, string>): Promise<{ messageId: string }>; close(): void };

/** The host of an SMTP URL, for messages: the URL itself may hold a password. */
function smtpHost(url: string): string {
  try {
    return new URL(url).host || 'the SMTP server';
  } catch {
    return 'the SMTP server';
  }
}

/** Refuses what is not an smtp:// or smtps:// URL before the first mail is due. */
export function checkSmtpUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(
      'the SMTP URL is not a URL: give e.g. smtp://mail.example.com:587 or smtps://user:password@mail.example.com:465',
      'bad-smtp-url',
    );
  }
  if (!['smtp:', 'smtps:'].includes(u.protocol) || !u.hostname) {
    throw new UsageError(
      `the SMTP URL must start with smtp:// or smtps:// and name a host, not '${u.protocol}//${u.host}'`,
      'bad-smtp-url',
    );
  }
}

/** Sends through an SMTP server with nodemailer, e.g. smtps://user:pass@mail.example.com:465; one transport, reused. */
export class SmtpMailer implements Mailer {
  private transport: SmtpTransport | null = null;

  constructor(
    private readonly url: string,
    private readonly from = DEFAULT_FROM,
  ) {}

  private async open(): Promise<SmtpTransport> {
    if (this.transport) return this.transport;
    let nodemailer: { createTransport(url: string): SmtpTransport };
    try {
      const mod = (await import('nodemailer')) as unknown as { default?: typeof nodemailer } & typeof nodemailer;
      nodemailer = mod.default ?? mod;
    } catch (err) {
      throw new TokensmithError(
        'SMTP is configured (--smtp-url or TOKENSMITH_SMTP_URL) but nodemailer cannot be loaded: run npm install in the tokensmith folder',
        {
          code: 'mailer-missing',
          cause: err,
        },
      );
    }
    this.transport = nodemailer.createTransport(this.url);
    return this.transport;
  }

  async send(msg: MailMessage): Promise<{ delivered: string }> {
    const transport = await this.open();
    try {
      const info = await transport.sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text });
      return { delivered: `smtp:${info.messageId}` };
    } catch (err) {
      throw new TokensmithError(
        `sending mail to ${msg.to} through ${smtpHost(this.url)} failed: ${(err as Error).message}; check --smtp-url or TOKENSMITH_SMTP_URL`,
        {
          code: 'mail-failed',
          cause: err,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.transport?.close();
    this.transport = null;
  }
}

/** The outbox folder for a database: `<database dir>/outbox`. */
export function outboxDir(dbLocation: string): string {
  return join(dirname(dbLocation === ':memory:' ? join(process.cwd(), 'x') : dbLocation), 'outbox');
}

/** SMTP when an SMTP URL is given (smtpUrl, else TOKENSMITH_SMTP_URL), else the outbox beside the database (or TOKENSMITH_OUTBOX). */
export function mailerFor(dbLocation: string, env: NodeJS.ProcessEnv = process.env, smtpUrl?: string): Mailer {
  const from = env.TOKENSMITH_MAIL_FROM || DEFAULT_FROM;
  const url = smtpUrl || env.TOKENSMITH_SMTP_URL;
  if (url) {
    checkSmtpUrl(url);
    return new SmtpMailer(url, from);
  }
  return new OutboxMailer(env.TOKENSMITH_OUTBOX || outboxDir(dbLocation), from);
}
