/**
 * otpauth:// URIs (Google's Key Uri Format), one per line, and with --qr a
 * QR code per token (PNG) that an authenticator app scans. Built with the
 * otpauth library, so encoding and parameters match what the apps read.
 */
import { mkdir } from 'node:fs/promises';
import { refuseSymlink, writeFileSafely } from '../core/safe-file.js';
import { join } from 'node:path';
import { HOTP, Secret, TOTP } from 'otpauth';
import type { ExportToken, FormatWriter } from './types.js';

const ALG = { sha1: 'SHA1', sha256: 'SHA256', sha512: 'SHA512' } as const;

/** The token's URI; the manufacturer is the issuer when there is one. */
export function otpauthUri(t: ExportToken): string {
  const tok = t.token;
  const secret = new Secret({ buffer: Uint8Array.from(t.seed).buffer });
  const common = {
    issuer: tok.manufacturer,
    label: tok.serial,
    secret,
    algorithm: ALG[tok.algorithm],
    digits: tok.digits,
  };
  return tok.type === 'hotp'
    ? new HOTP({ ...common, counter: tok.counter }).toString()
    : new TOTP({ ...common, period: tok.period }).toString();
}

/** A file name from a serial: path separators and odd characters become '_'. */
export function qrFileName(serial: string): string {
  const safe = serial.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return `${safe || 'token'}.png`;
}

export class OtpauthWriter implements FormatWriter {
  readonly encrypted = false;
  private readonly written = new Set<string>();
  private qrReady: Promise<unknown> | null = null;
  qrCount = 0;

  constructor(private readonly opts: { qrDir?: string } = {}) {}

  header(): string {
    return '';
  }

  async entry(t: ExportToken): Promise<string> {
    const uri = otpauthUri(t);
    if (this.opts.qrDir) await this.writeQr(t.token.serial, uri);
    return uri + '\n';
  }

  private async writeQr(serial: string, uri: string): Promise<void> {
    const dir = this.opts.qrDir!;
    // A folder that is a link is refused like a file that is one: the codes hold seeds.
    this.qrReady ??= refuseSymlink(dir).then(() => mkdir(dir, { recursive: true, mode: 0o700 }));
    await this.qrReady;
    const QRCode = (await import('qrcode')).default;
    let name = qrFileName(serial);
    // Two serials that sanitise alike (or one serial from two manufacturers) must not overwrite each other.
    for (let n = 2; this.written.has(name); n++) name = qrFileName(`${serial}-${n}`);
    this.written.add(name);
    const png = await QRCode.toBuffer(uri, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
    await writeFileSafely(join(dir, name), png);
    this.qrCount++;
  }

  footer(): string {
    return '';
  }

  notes(): string[] {
    return this.opts.qrDir
      ? [`${this.qrCount} QR code(s) written to ${this.opts.qrDir} (each holds a seed: keep the folder private)`]
      : [];
  }
}
