/**
 * Numbered migrations for the SQLite backend. A migration is applied once,
 * in order, and recorded in schema_migrations; never edit one that has
 * landed on main: add the next number.
 */
import type { Migration } from './migration.js';
import { MIGRATIONS_FROM_10 } from './migrations-10.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE batches (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('import', 'flash')),
  source_name   TEXT,
  source_sha256 TEXT,
  format        TEXT,
  imported      INTEGER NOT NULL DEFAULT 0,
  skipped       INTEGER NOT NULL DEFAULT 0,
  failed        INTEGER NOT NULL DEFAULT 0,
  operator      TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'aborted')),
  created_at    TEXT NOT NULL,
  finished_at   TEXT
);
CREATE INDEX batches_sha256 ON batches (source_sha256);

CREATE TABLE resources (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  url         TEXT,
  lock_after  INTEGER NOT NULL DEFAULT 5,
  window      INTEGER NOT NULL DEFAULT 2,
  sync_window INTEGER NOT NULL DEFAULT 1000,
  actions     TEXT NOT NULL DEFAULT '[]',
  token_types TEXT NOT NULL DEFAULT '[]',
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);

CREATE TABLE tokens (
  id              INTEGER PRIMARY KEY,
  serial          TEXT NOT NULL,
  manufacturer    TEXT NOT NULL DEFAULT '',
  model           TEXT,
  kind            TEXT NOT NULL CHECK (kind IN ('programmable', 'classic')),
  type            TEXT NOT NULL CHECK (type IN ('totp', 'hotp')),
  algorithm       TEXT NOT NULL CHECK (algorithm IN ('sha1', 'sha256', 'sha512')),
  digits          INTEGER NOT NULL CHECK (digits BETWEEN 4 AND 10),
  period          INTEGER NOT NULL CHECK (period > 0),
  counter         INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
  sealed_seed     BLOB,
  state           TEXT NOT NULL CHECK (state IN ('in_stock', 'programmed', 'assigned', 'enrolled', 'disabled', 'lost', 'revoked', 'retired')),
  previous_state  TEXT,
  drift_steps     INTEGER NOT NULL DEFAULT 0,
  batch_id        INTEGER REFERENCES batches (id),
  resource_id     INTEGER REFERENCES resources (id),
  device_serial   TEXT,
  profile         INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked          INTEGER NOT NULL DEFAULT 0,
  last_used_step  INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (manufacturer, serial)
);
CREATE INDEX tokens_serial ON tokens (serial);
CREATE INDEX tokens_state ON tokens (state);
CREATE INDEX tokens_resource ON tokens (resource_id);
CREATE INDEX tokens_batch ON tokens (batch_id);
CREATE UNIQUE INDEX tokens_device_profile ON tokens (device_serial, profile) WHERE device_serial IS NOT NULL AND profile IS NOT NULL;

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  login         TEXT NOT NULL UNIQUE,
  name          TEXT,
  email         TEXT,
  phone         TEXT,
  password_hash TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE user_resources (
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, resource_id)
);

CREATE TABLE assignments (
  id          INTEGER PRIMARY KEY,
  token_id    INTEGER NOT NULL UNIQUE REFERENCES tokens (id),
  user_id     INTEGER NOT NULL REFERENCES users (id),
  resource_id INTEGER NOT NULL REFERENCES resources (id),
  created_at  TEXT NOT NULL,
  enrolled_at TEXT,
  UNIQUE (user_id, resource_id)
);

CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  details   TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'self-service portal: emailed sign-in codes and failed sign-in counters',
    sql: `
CREATE TABLE portal_signin_codes (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  code_hash   TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL
);
CREATE INDEX portal_signin_codes_user ON portal_signin_codes (user_id, resource_id);

CREATE TABLE portal_signin_failures (
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  resource_id  INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  failed       INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT,
  PRIMARY KEY (user_id, resource_id)
);
`,
  },
  {
    version: 6,
    name: 'tokens: the CHECK lists written as OR chains (SQLite builds a table for each IN list at every insert)',
    // The same table, column for column, with the same constraints: SQLite evaluates `x IN (a, b, c)` in a
    // CHECK by building a small ephemeral table each time an INSERT statement runs, which cost a third of
    // a bulk import's insert time. Rebuilt in the documented way: new table, copy, drop, rename, indexes.
    // assignments.token_id refers to tokens: checked with foreign_key_check before the commit.
    rebuildsTables: true,
    sql: `
CREATE TABLE tokens_v6 (
  id              INTEGER PRIMARY KEY,
  serial          TEXT NOT NULL,
  manufacturer    TEXT NOT NULL DEFAULT '',
  model           TEXT,
  kind            TEXT NOT NULL CHECK (kind = 'programmable' OR kind = 'classic'),
  type            TEXT NOT NULL CHECK (type = 'totp' OR type = 'hotp'),
  algorithm       TEXT NOT NULL CHECK (algorithm = 'sha1' OR algorithm = 'sha256' OR algorithm = 'sha512'),
  digits          INTEGER NOT NULL CHECK (digits BETWEEN 4 AND 10),
  period          INTEGER NOT NULL CHECK (period > 0),
  counter         INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
  sealed_seed     BLOB,
  state           TEXT NOT NULL CHECK (state = 'in_stock' OR state = 'programmed' OR state = 'assigned' OR state = 'enrolled'
                                       OR state = 'disabled' OR state = 'lost' OR state = 'revoked' OR state = 'retired'),
  previous_state  TEXT,
  drift_steps     INTEGER NOT NULL DEFAULT 0,
  batch_id        INTEGER REFERENCES batches (id),
  resource_id     INTEGER REFERENCES resources (id),
  device_serial   TEXT,
  profile         INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked          INTEGER NOT NULL DEFAULT 0,
  last_used_step  INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (manufacturer, serial)
);
INSERT INTO tokens_v6 (id, serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state, previous_state,
  drift_steps, batch_id, resource_id, device_serial, profile, failed_attempts, locked, last_used_step, attributes, created_at, updated_at)
SELECT id, serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state, previous_state,
  drift_steps, batch_id, resource_id, device_serial, profile, failed_attempts, locked, last_used_step, attributes, created_at, updated_at
FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v6 RENAME TO tokens;
CREATE INDEX tokens_serial ON tokens (serial);
CREATE INDEX tokens_state ON tokens (state);
CREATE INDEX tokens_resource ON tokens (resource_id);
CREATE INDEX tokens_batch ON tokens (batch_id);
CREATE UNIQUE INDEX tokens_device_profile ON tokens (device_serial, profile) WHERE device_serial IS NOT NULL AND profile IS NOT NULL;
`,
  },
  {
    version: 7,
    name: 'self-service portal: sessions, attempt counters, rate-limit buckets and one live emailed code per user',
    // Times are epoch milliseconds, so that a single UPDATE can compare and count (idle, cool-down, lock).
    sql: `
CREATE TABLE portal_sessions (
  id_hash     TEXT PRIMARY KEY,
  resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_ms  INTEGER NOT NULL,
  seen_ms     INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_ms);

CREATE TABLE portal_attempts (
  resource_id     INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  subject         TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER,
  touched_ms      INTEGER NOT NULL,
  PRIMARY KEY (resource_id, subject)
);

CREATE TABLE portal_rate_buckets (
  bucket    TEXT PRIMARY KEY,
  window_ms INTEGER NOT NULL,
  hits      INTEGER NOT NULL
);

CREATE TABLE portal_email_codes (
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  code_hash   TEXT NOT NULL,
  sent_ms     INTEGER NOT NULL,
  expires_ms  INTEGER NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, resource_id)
);
`,
  },
  {
    version: 8,
    name: 'tokens: TOTP T0, Luhn check digit, HOTP counters up to 2^64-1, type dpw',
    // A CHECK cannot be altered in SQLite: rebuilt as migration 6 was. t0 is RFC 6238's T0 in Unix seconds;
    // check_digit is RFC 4226's Luhn digit appended to the code; counter_big holds the exact decimal counter
    // when it is beyond 2^53-1 (JavaScript's exact integers; INTEGER is signed 64-bit), and counter then holds 2^53-1.
    rebuildsTables: true,
    sql: `
CREATE TABLE tokens_v8 (
  id              INTEGER PRIMARY KEY,
  serial          TEXT NOT NULL,
  manufacturer    TEXT NOT NULL DEFAULT '',
  model           TEXT,
  kind            TEXT NOT NULL CHECK (kind = 'programmable' OR kind = 'classic'),
  type            TEXT NOT NULL CHECK (type = 'totp' OR type = 'hotp' OR type = 'dpw'),
  algorithm       TEXT NOT NULL CHECK (algorithm = 'sha1' OR algorithm = 'sha256' OR algorithm = 'sha512'),
  digits          INTEGER NOT NULL CHECK (digits BETWEEN 4 AND 10),
  period          INTEGER NOT NULL CHECK (period > 0),
  counter         INTEGER NOT NULL DEFAULT 0 CHECK (counter >= 0),
  sealed_seed     BLOB,
  state           TEXT NOT NULL CHECK (state = 'in_stock' OR state = 'programmed' OR state = 'assigned' OR state = 'enrolled'
                                       OR state = 'disabled' OR state = 'lost' OR state = 'revoked' OR state = 'retired'),
  previous_state  TEXT,
  drift_steps     INTEGER NOT NULL DEFAULT 0,
  batch_id        INTEGER REFERENCES batches (id),
  resource_id     INTEGER REFERENCES resources (id),
  device_serial   TEXT,
  profile         INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked          INTEGER NOT NULL DEFAULT 0,
  last_used_step  INTEGER,
  attributes      TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  t0              INTEGER NOT NULL DEFAULT 0,
  check_digit     INTEGER NOT NULL DEFAULT 0 CHECK (check_digit = 0 OR check_digit = 1),
  counter_big     TEXT CHECK (counter_big IS NULL OR (length(counter_big) BETWEEN 16 AND 20 AND counter_big NOT GLOB '*[^0-9]*')),
  UNIQUE (manufacturer, serial)
);
INSERT INTO tokens_v8 (id, serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state, previous_state,
  drift_steps, batch_id, resource_id, device_serial, profile, failed_attempts, locked, last_used_step, attributes, created_at, updated_at)
SELECT id, serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state, previous_state,
  drift_steps, batch_id, resource_id, device_serial, profile, failed_attempts, locked, last_used_step, attributes, created_at, updated_at
FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v8 RENAME TO tokens;
CREATE INDEX tokens_serial ON tokens (serial);
CREATE INDEX tokens_state ON tokens (state);
CREATE INDEX tokens_resource ON tokens (resource_id);
CREATE INDEX tokens_batch ON tokens (batch_id);
CREATE UNIQUE INDEX tokens_device_profile ON tokens (device_serial, profile) WHERE device_serial IS NOT NULL AND profile IS NOT NULL;
`,
  },
  {
    version: 9,
    name: 'audit anchor, token UID index',
    // The anchor itself needs the master key, so it is written in code (src/store/core/audit-anchor.ts) right after this: the flag says it is due.
    sql: `
INSERT INTO meta (key, value) VALUES ('audit_anchor_pending', '1') ON CONFLICT (key) DO NOTHING;
-- Tokens whose reader reports a UID (kept in the attributes) are found by it, not by scanning every token.
CREATE INDEX tokens_attr_uid ON tokens (json_extract(attributes, '$.uid'));
`,
  },
  ...MIGRATIONS_FROM_10,
];
