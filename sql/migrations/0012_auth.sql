-- Sign-in and tokens inside the database (issue 14). The API's own login (`cadastre_api`) is
-- trusted only to pass on what a caller proved: the token signing keys live in a table that
-- only `cadastre_auth` (a NOLOGIN, non-superuser role) can read, tokens are minted and checked
-- by SECURITY DEFINER functions owned by it (sql/functions/auth.sql), password hashes are
-- checked there too (bcrypt through pgcrypto: the API never reads a hash), and
-- `cadastre backup` leaves the keys out, so a restored copy mints its own.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadastre_auth') THEN
        CREATE ROLE cadastre_auth NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
            NOREPLICATION;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cadastre_definer') THEN
        CREATE ROLE cadastre_definer NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
            NOREPLICATION;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created meanwhile by another database's upgrade on the same server
END;
$$;

-- Token signing keys. One current key (retired_at IS NULL) signs; a retired key still
-- verifies until accepted_until (one token lifetime after `cadastre auth rotate-key`).
CREATE TABLE auth_signing_key (
    kid             text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,32}$'),
    secret          bytea NOT NULL CHECK (octet_length(secret) >= 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    accepted_until  timestamptz,
    CHECK ((retired_at IS NULL) = (accepted_until IS NULL))
);
CREATE UNIQUE INDEX auth_signing_key_one_current ON auth_signing_key ((true))
    WHERE retired_at IS NULL;
ALTER TABLE auth_signing_key OWNER TO cadastre_auth;
REVOKE ALL ON auth_signing_key FROM PUBLIC;

-- The key of earlier versions sat in database_setting, readable by the API and written into
-- every backup: it is gone, and so is every token it signed.
DELETE FROM database_setting WHERE name = 'token_signing_key';

-- A token names the account's token_version; disabling the account, changing its role or
-- its password bumps it (trigger below), so older tokens stop working at once.
ALTER TABLE app_user ADD COLUMN token_version integer NOT NULL DEFAULT 1;

-- Passwords are now bcrypt hashes made and checked by pgcrypto in the database. argon2
-- hashes of earlier versions cannot be checked there: those accounts must be given a new
-- password (`cadastre user passwd NAME`).
UPDATE app_user SET password_hash = NULL WHERE password_hash LIKE '$argon2%';
