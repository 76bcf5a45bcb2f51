/**
 * Email for the self-service portal (one-time sign-in codes). By default a
 * message is written as an .eml file into an outbox folder beside the
 * database; with TOKENSMITH_SMTP_URL set, it goes out by SMTP (nodemailer,
 * loaded only then).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { TokensmithError } from '../core/errors.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Sends one message; returns where it went (a file path, an SMTP message id). */
  send(msg: MailMessage): Promise<{ delivered: string }>;
}

const DEFAULT_FROM = 'tokensmith <tokensmith@localhost>';

function headerSafe(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** Writes RFC 5322 messages into a folder, one file each (mode 0600: they hold sign-in codes). */
export class OutboxMailer implements Mailer {
  constructor(
    readonly dir: string,
    private readonly from = DEFAULT_FROM,
  ) {}

  async send(msg: MailMessage): Promise<{ delivered: string }> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
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

/** Sends through an SMTP server with nodemailer, e.g. smtps://user:pass@mail.example.com:465. */
export class SmtpMailer implements Mailer {
  constructor(
    private readonly url: string,
    private readonly from = DEFAULT_FROM,
  ) {}

  async send(msg: MailMessage): Promise<{ delivered: string }> {
    let nodemailer: { createTransport(url: string): { sendMail(m: Record<string, string>): Promise<{ messageId: string }> } };
    try {
      const mod = (await import('nodemailer')) as unknown as { default?: typeof nodemailer } & typeof nodemailer;
      nodemailer = mod.default ?? mod;
    } catch (err) {
      throw new TokensmithError('SMTP is configured (TOKENSMITH_SMTP_URL) but nodemailer cannot be loaded: run npm install in the tokensmith folder', {
        code: 'mailer-missing',
        cause: err,
      });
    }
    try {
      const info = await nodemailer.createTransport(this.url).sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text });
      return { delivered: `smtp:${info.messageId}` };
    } catch (err) {
      // The URL may hold a password: name only the host.
      const host = (() => {
        try {
          return new URL(this.url).host;
        } catch {
          return 'the SMTP server';
        }
      })();
      throw new TokensmithError(`sending mail to ${msg.to} through ${host} failed: ${(err as Error).message}; check TOKENSMITH_SMTP_URL`, { code: 'mail-failed', cause: err });
    }
  }
}

/** The outbox folder for a database: `<database dir>/outbox`. */
export function outboxDir(dbLocation: string): string {
  return join(dirname(dbLocation === ':memory:' ? join(process.cwd(), 'x') : dbLocation), 'outbox');
}

/** SMTP when TOKENSMITH_SMTP_URL is set, else the outbox beside the database (or TOKENSMITH_OUTBOX). */
export function mailerFor(dbLocation: string, env: NodeJS.ProcessEnv = process.env): Mailer {
  const from = env.TOKENSMITH_MAIL_FROM || DEFAULT_FROM;
  if (env.TOKENSMITH_SMTP_URL) return new SmtpMailer(env.TOKENSMITH_SMTP_URL, from);
  return new OutboxMailer(env.TOKENSMITH_OUTBOX || outboxDir(dbLocation), from);
}
