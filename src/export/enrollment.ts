/**
 * The enrollment package: one CBOR file that a self-service portal loads to
 * let a Resource's users claim their tokens. The outer map carries the format
 * name, the format version, and a SHA-256 digest of the content, which is
 * itself CBOR inside a byte string (so the digest covers exact bytes). The
 * seeds travel inside the content as an (encrypted) PSKC document.
 * docs/export.md describes every field.
 */
import { createHash } from 'node:crypto';
import { Decoder, Encoder } from 'cbor-x';
import { DataError } from '../core/errors.js';
import type { ResourceRecord, UserRecord } from '../store/types.js';
import type { TransportKeys } from './pskc-crypto.js';

export const ENROLLMENT_FORMAT = 'tokensmith-enrollment';
export const ENROLLMENT_VERSION = 1;

// Plain CBOR maps, byte strings without typed-array tags: any CBOR library reads it.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export interface EnrollmentResource {
  name: string;
  url: string | null;
  lockAfter: number;
  window: number;
  syncWindow: number;
  actions: string[];
  tokenTypes: string[];
}

export interface EnrollmentUser {
  login: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  hasPassword: boolean;
  /** Only with --include-password-hashes. */
  passwordHash?: string;
}

export interface EnrollmentToken {
  serial: string;
  manufacturer: string;
  model: string | null;
  kind: string;
  type: string;
  algorithm: string;
  digits: number;
  period: number;
  counter: number;
  driftSteps: number;
  state: string;
  user: string | null;
  /** The Key Id of this token's KeyPackage in seeds.pskc. */
  keyId: string;
}

export interface EnrollmentAssignment {
  serial: string;
  manufacturer: string;
  user: string;
  assignedAt: string;
  enrolledAt: string | null;
}

export interface EnrollmentSeeds {
  format: 'pskc';
  encrypted: boolean;
  /** 'pbkdf2' (password), 'preshared' (--key) or null (plaintext). */
  keyDerivation: 'pbkdf2' | 'preshared' | null;
  cipher: string | null;
  mac: string | null;
  /** The PSKC document, UTF-8. */
  pskc: Uint8Array;
}

export interface EnrollmentContent {
  createdAt: string;
  createdBy: string;
  generator: string;
  resource: EnrollmentResource;
  users: EnrollmentUser[];
  tokens: EnrollmentToken[];
  assignments: EnrollmentAssignment[];
  seeds: EnrollmentSeeds;
}

export function enrollmentResource(r: ResourceRecord): EnrollmentResource {
  return {
    name: r.name,
    url: r.url,
    lockAfter: r.lockAfter,
    window: r.window,
    syncWindow: r.syncWindow,
    actions: [...r.actions],
    tokenTypes: [...r.tokenTypes],
  };
}

export function enrollmentUser(u: UserRecord, includeHash: boolean): EnrollmentUser {
  const out: EnrollmentUser = {
    login: u.login,
    name: u.name,
    email: u.email,
    phone: u.phone,
    hasPassword: u.passwordHash !== null,
  };
  if (includeHash && u.passwordHash !== null) out.passwordHash = u.passwordHash;
  return out;
}

export function seedsInfo(keys: TransportKeys | null, pskc: string): EnrollmentSeeds {
  return {
    format: 'pskc',
    encrypted: keys !== null,
    keyDerivation: keys ? (keys.source.kind === 'password' ? 'pbkdf2' : 'preshared') : null,
    cipher: keys?.cipher.name ?? null,
    mac: keys?.mac.name ?? null,
    pskc: Buffer.from(pskc, 'utf8'),
  };
}

/** Encodes the package: {format, version, digestAlgorithm, digest, content}. */
export function encodeEnrollmentPackage(content: EnrollmentContent): Buffer {
  const body = Buffer.from(encoder.encode(content));
  const digest = createHash('sha256').update(body).digest();
  return Buffer.from(
    encoder.encode({
      format: ENROLLMENT_FORMAT,
      version: ENROLLMENT_VERSION,
      digestAlgorithm: 'sha-256',
      digest,
      content: body,
    }),
  );
}

export interface DecodedPackage {
  version: number;
  digest: string;
  content: EnrollmentContent;
}

/** Decodes and checks a package: format, version, digest. Throws a DataError naming what is wrong. */
export function decodeEnrollmentPackage(bytes: Uint8Array, where = 'the package'): DecodedPackage {
  let outer: Record<string, unknown>;
  try {
    outer = decoder.decode(bytes) as Record<string, unknown>;
  } catch (err) {
    throw new DataError(
      `${where} is not a readable CBOR document (${(err as Error).message}); the file is damaged or not an enrollment package`,
      {
        code: 'bad-package',
        where,
      },
    );
  }
  if (!outer || typeof outer !== 'object' || outer.format !== ENROLLMENT_FORMAT) {
    throw new DataError(`${where} is not a tokensmith enrollment package (format field is missing or wrong)`, {
      code: 'bad-package',
      where,
    });
  }
  if (outer.version !== ENROLLMENT_VERSION) {
    throw new DataError(
      `${where} has format version ${String(outer.version)}; this tokensmith reads version ${ENROLLMENT_VERSION}`,
      { code: 'package-version', where },
    );
  }
  const body = outer.content;
  const digest = outer.digest;
  if (!(body instanceof Uint8Array) || !(digest instanceof Uint8Array) || outer.digestAlgorithm !== 'sha-256') {
    throw new DataError(`${where} lacks its content or its SHA-256 digest`, { code: 'bad-package', where });
  }
  const actual = createHash('sha256').update(body).digest();
  if (!actual.equals(Buffer.from(digest))) {
    throw new DataError(
      `${where}: the SHA-256 digest does not match the content (stored ${Buffer.from(digest).toString('hex').slice(0, 16)}..., computed ${actual.toString('hex').slice(0, 16)}...): the file was changed or damaged after export; export it again`,
      { code: 'digest-mismatch', where },
    );
  }
  let content: EnrollmentContent;
  try {
    content = decoder.decode(body) as EnrollmentContent;
  } catch (err) {
    throw new DataError(
      `${where}: the content does not decode although its digest matches (${(err as Error).message})`,
      { code: 'bad-package', where },
    );
  }
  return { version: outer.version as number, digest: actual.toString('hex'), content };
}

export interface PackageSummary {
  format: string;
  version: number;
  digest: string;
  digestOk: true;
  createdAt: string;
  createdBy: string;
  generator: string;
  resource: EnrollmentResource;
  users: EnrollmentUser[];
  tokens: EnrollmentToken[];
  assignments: EnrollmentAssignment[];
  seeds: {
    format: string;
    encrypted: boolean;
    keyDerivation: string | null;
    cipher: string | null;
    mac: string | null;
    keyPackages: number;
    bytes: number;
  };
}

/** What `enrollment inspect` shows: everything but secrets (no seeds, password hashes only as present/absent). */
export function summarisePackage(p: DecodedPackage): PackageSummary {
  const c = p.content;
  const pskc = Buffer.from(c.seeds.pskc).toString('utf8');
  const keyPackages = (pskc.match(/<(?:\w+:)?KeyPackage[\s>]/g) ?? []).length;
  return {
    format: ENROLLMENT_FORMAT,
    version: p.version,
    digest: p.digest,
    digestOk: true,
    createdAt: c.createdAt,
    createdBy: c.createdBy,
    generator: c.generator,
    resource: c.resource,
    users: c.users.map(({ passwordHash, ...u }) => ({ ...u, ...(passwordHash ? { passwordHashIncluded: true } : {}) })),
    tokens: c.tokens,
    assignments: c.assignments,
    seeds: {
      format: c.seeds.format,
      encrypted: c.seeds.encrypted,
      keyDerivation: c.seeds.keyDerivation,
      cipher: c.seeds.cipher,
      mac: c.seeds.mac,
      keyPackages,
      bytes: c.seeds.pskc.length,
    },
  };
}
