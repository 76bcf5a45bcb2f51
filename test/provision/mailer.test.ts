import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailerFor, OutboxMailer, SmtpMailer } from '../../src/provision/mailer.js';

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
});
