/**
 * One connection to a directory over ldapts: TLS (ldaps:// or StartTLS)
 * verified against the configured CA, every operation under the directory's
 * time limit, and the errors sorted into "refused" (wrong credentials) and
 * "unavailable" (down, timed out, TLS refused, cut short) so that callers
 * can tell a wrong password from an outage.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { DataError, TokensmithError } from '../core/errors.js';
import type { DirectoryConfig } from './config.js';

/** The directory did not answer as it must (down, timed out, TLS refused, a result cut short): nothing may be concluded. */
export class DirectoryUnavailableError extends TokensmithError {
  constructor(name: string, why: string, cause?: unknown) {
    super(`directory '${name}' is unavailable: ${why}`, { code: 'directory-unavailable', cause });
  }
}

function tlsOptions(c: DirectoryConfig): ConnectionOptions {
  // The CA file is read at connect time, so a renewed CA needs no `directory add` again.
  return c.caFile ? { ca: readFileSync(c.caFile), rejectUnauthorized: true } : { rejectUnauthorized: true };
}

/** Why an LDAP operation failed, in words fit for a message (no credentials in it). */
export function describeLdapError(err: unknown): string {
  const e = err as { code?: unknown; message?: string };
  return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message ?? String(err)}`;
}

export class DirectoryConnection {
  private constructor(
    readonly name: string,
    readonly config: DirectoryConfig,
    private readonly client: Client,
  ) {}

  /** Connects (StartTLS when configured); nothing is bound yet. */
  static async open(name: string, config: DirectoryConfig): Promise<DirectoryConnection> {
    const client = new Client({
      url: config.url,
      timeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      // Only for ldaps://: given on an ldap:// URL, ldapts would speak TLS at once and StartTLS would fail.
      ...(/^ldaps:/i.test(config.url) ? { tlsOptions: tlsOptions(config) } : {}),
      strictDN: false,
    });
    const conn = new DirectoryConnection(name, config, client);
    if (config.starttls) {
      try {
        await client.startTLS(tlsOptions(config));
      } catch (err) {
        await conn.close();
        throw new DirectoryUnavailableError(name, `StartTLS failed: ${describeLdapError(err)}`, err);
      }
    }
    return conn;
  }

  /** Binds with a DN and password: false for wrong credentials, a DirectoryUnavailableError for anything else. */
  async bind(dn: string, password: string): Promise<boolean> {
    // RFC 4513 5.1.2: a DN with an empty password is an unauthenticated bind, which many servers let through.
    if (password === '') return false;
    try {
      await this.client.bind(dn, password);
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      throw new DirectoryUnavailableError(this.name, describeLdapError(err), err);
    }
  }

  /** Binds as the service account of the directory; a refusal is the admin's to fix. */
  async bindService(password: string): Promise<void> {
    if (!(await this.bind(this.config.bindDn, password)))
      throw new DataError(`directory '${this.name}' refused the bind DN ${this.config.bindDn} and its password`, {
        code: 'directory-bind-refused',
      });
  }

  /**
   * Every entry under the base that matches, page by page (RFC 2696); `onPage` hears the count so far.
   * Any error, a size or time limit included, throws: a partial result is never returned.
   */
  async searchAll(
    filter: string,
    attributes: string[],
    opts: { base?: string; scope?: 'base' | 'sub'; onPage?: (count: number) => void } = {},
  ): Promise<Entry[]> {
    const entries: Entry[] = [];
    try {
      const pages = this.client.searchPaginated(opts.base ?? this.config.baseDn, {
        scope: opts.scope ?? 'sub',
        filter,
        attributes,
        paged: { pageSize: this.config.pageSize },
        timeLimit: Math.ceil(this.config.timeoutMs / 1000),
      });
      for await (const page of pages) {
        for (const e of page.searchEntries) entries.push(e);
        opts.onPage?.(entries.length);
      }
    } catch (err) {
      throw new DirectoryUnavailableError(this.name, `search cut short: ${describeLdapError(err)}`, err);
    }
    return entries;
  }

  /** One entry read by its DN, or null when there is none. */
  async read(dn: string, attributes: string[]): Promise<Entry | null> {
    try {
      const r = await this.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes });
      return r.searchEntries[0] ?? null;
    } catch (err) {
      if ((err as { code?: number }).code === 32) return null; // noSuchObject
      throw new DirectoryUnavailableError(this.name, describeLdapError(err), err);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.unbind();
    } catch {
      // Already closed or never connected: nothing to release.
    }
  }
}

/** Opens, runs fn, and closes whatever happens; a connection failure is DirectoryUnavailableError. */
export async function withConnection<T>(
  name: string,
  config: DirectoryConfig,
  fn: (c: DirectoryConnection) => Promise<T>,
): Promise<T> {
  const conn = await DirectoryConnection.open(name, config);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}
