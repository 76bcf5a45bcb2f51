import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailerFor, OUTBOX_KEEP_MS, OutboxMailer, SmtpMailer } from '../../src/provision/mailer.js';
import { startTestSmtp } from '../helpers/smtp.js';

describe('mailer', () => {
  it('writes a message into the outbox beside the database, mode 0600, headers without injected lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-mail-'));
    try {
      const m = mailerFor(join(dir, 'x.db'), {});
      expect(m).toBeInstanceOf(OutboxMailer);
      const { delivered } = await m.send({ to: 'a@example.com', subject: 'Hi\r\nBcc: evil@example.com', text: 'body' });
      expect(readdirSync(join(dir, 'outbox'))).toHaveLength(1);
      expect(statSync(delivered).mode & 0o777).toBe(0o600);
      const text = readFileSync(delivered, 'utf8');
      expect(text).toMatch(/\r\nSubject: Hi Bcc: evil@example.com\r\n/);
      expect(text).not.toMatch(/\r\nBcc:/);
      expect(text.endsWith('body\r\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses SMTP (nodemailer, loaded lazily) when TOKENSMITH_SMTP_URL is set, and names only the host on failure', async () => {
    const m = mailerFor('/tmp/x.db', { TOKENSMITH_SMTP_URL: 'smtp://user:s3cretpass@127.0.0.1:1' });
    expect(m).toBeInstanceOf(SmtpMailer);
    const err = await m.send({ to: 'a@example.com', subject: 's', text: 't' }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(err?.code).toBe('mail-failed');
    expect(err?.message).toMatch(/through 127\.0\.0\.1:1 failed/);
    expect(err?.message).not.toContain('s3cretpass');
  });

  it('removes outbox messages older than a sign-in code lives when it writes the next one; younger ones stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-mail-'));
    try {
      const m = new OutboxMailer(join(dir, 'outbox'));
      const old = (await m.send({ to: 'a@example.com', subject: 'old', text: 'code 111111' })).delivered;
      const young = (await m.send({ to: 'a@example.com', subject: 'young', text: 'code 222222' })).delivered;
      const past = (Date.now() - OUTBOX_KEEP_MS - 60_000) / 1000;
      utimesSync(old, past, past);
      writeFileSync(join(dir, 'outbox', 'notes.txt'), 'not mail');
      const latest = (await m.send({ to: 'a@example.com', subject: 'latest', text: 'code 333333' })).delivered;
      expect(readdirSync(join(dir, 'outbox')).sort()).toEqual(
        [young, latest, join(dir, 'outbox', 'notes.txt')].map((p) => p.split('/').at(-1)).sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers through a real SMTP server given as the smtpUrl argument (ahead of TOKENSMITH_SMTP_URL)', async () => {
    const smtp = await startTestSmtp();
    const m = mailerFor(
      '/tmp/x.db',
      { TOKENSMITH_SMTP_URL: 'smtp://127.0.0.1:1', TOKENSMITH_MAIL_FROM: 'portal@example.org' },
      smtp.url,
    );
    try {
      await m.send({ to: 'bob@example.org', subject: 'Your code', text: 'The code is 123456.' });
      await m.send({ to: 'carol@example.org', subject: 'Your code', text: 'The code is 654321.' });
      const mail = await smtp.waitFor('bob@example.org');
      expect(mail.from).toBe('portal@example.org');
      expect(mail.raw).toMatch(/^Subject: Your code\r?$/m);
      expect(mail.raw).toContain('The code is 123456.');
      expect(smtp.received.map((r) => r.to[0])).toEqual(['bob@example.org', 'carol@example.org']);
    } finally {
      await m.close?.();
      await smtp.stop();
    }
  });

  it('refuses an SMTP URL that is not smtp:// or smtps:// as a usage error', () => {
    expect(() => mailerFor('/tmp/x.db', {}, 'http://mail.example.com')).toThrow(
      expect.objectContaining({ code: 'bad-smtp-url', exitCode: 2 }),
    );
    expect(() => mailerFor('/tmp/x.db', {}, 'mail.example.com:25')).toThrow(
      expect.objectContaining({ code: 'bad-smtp-url' }),
    );
  });
});
