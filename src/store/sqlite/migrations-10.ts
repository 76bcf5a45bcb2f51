/**
 * The SQLite migrations from version 10 on (migrations.ts holds 1 to 9 and the
 * Migration type); the same rule holds: never edit one that has landed on
 * main, add the next number.
 */
import type { Migration } from './migration.js';

export const MIGRATIONS_FROM_10: Migration[] = [
  {
    version: 10,
    name: 'tokens: when the state last changed',
    // "Assigned but never enrolled since ..." needs the time of the last state change; tokens that had one take their last update.
    sql: `
ALTER TABLE tokens ADD COLUMN state_changed_at TEXT;
UPDATE tokens SET state_changed_at = updated_at;
`,
  },
  {
    version: 11,
    name: 'portal: escalating locks, a per-login counter across Resources, the second-factor hold',
    // locks: how many locks in a row (each doubles the next); portal_login_attempts counts a login's tries in every Resource;
    // portal_second_factor: the user held an enrolled token there, so sign-in keeps asking for one until an admin says not.
    sql: `
ALTER TABLE portal_attempts ADD COLUMN locks INTEGER NOT NULL DEFAULT 0;
CREATE TABLE portal_login_attempts (
  subject         TEXT PRIMARY KEY,
  attempts        INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER,
  locks           INTEGER NOT NULL DEFAULT 0,
  touched_ms      INTEGER NOT NULL
);
CREATE TABLE portal_second_factor (
  user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  since_ms    INTEGER NOT NULL,
  PRIMARY KEY (user_id, resource_id)
);
`,
  },
  {
    version: 12,
    name: 'directories: LDAP/AD sources of users, their accounts and Resource links',
    // The bind password is sealed under the master key like a seed (base64 of the sealed bytes); users stay in users,
    // the directory side of a user (its DN, whether the directory disabled it or it left) is one row beside it.
    sql: `
CREATE TABLE directories (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  config          TEXT NOT NULL,
  sealed_password TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

CREATE TABLE directory_accounts (
  user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  directory_id INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
  dn           TEXT NOT NULL,
  disabled     INTEGER NOT NULL DEFAULT 0,
  synced_at    TEXT NOT NULL
);
CREATE INDEX directory_accounts_directory ON directory_accounts (directory_id);

CREATE TABLE directory_links (
  resource_id  INTEGER PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
  directory_id INTEGER NOT NULL REFERENCES directories (id) ON DELETE CASCADE,
  group_dn     TEXT NOT NULL,
  on_leave     TEXT NOT NULL CHECK (on_leave IN ('keep', 'unassign', 'disable'))
);
`,
  },
  {
    version: 13,
    name: 'Microsoft Entra ID: the connection (credential sealed) and, per token, what reached Entra',
    // One connection per store (id 1). entra_devices is tokensmith's record of each token's twin in Entra:
    // its Graph id (null while not there), its state there, and a keyed digest of the seed that was uploaded
    // (Graph never returns the secret, so this digest is what a later push compares).
    sql: `
CREATE TABLE entra_connections (
  id                INTEGER PRIMARY KEY CHECK (id = 1),
  tenant            TEXT NOT NULL,
  client_id         TEXT NOT NULL,
  auth              TEXT NOT NULL CHECK (auth IN ('secret', 'certificate', 'device-code')),
  sealed_credential BLOB,
  graph_url         TEXT NOT NULL,
  authority_url     TEXT NOT NULL,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE TABLE entra_devices (
  token_id    INTEGER PRIMARY KEY REFERENCES tokens (id) ON DELETE CASCADE,
  entra_id    TEXT,
  state       TEXT NOT NULL CHECK (state IN ('not-in-entra', 'sent', 'available', 'assigned', 'activated', 'failedActivation')),
  user_ref    TEXT,
  seed_digest TEXT,
  error       TEXT,
  updated_at  TEXT NOT NULL
);
CREATE INDEX entra_devices_entra_id ON entra_devices (entra_id);
`,
  },
];
