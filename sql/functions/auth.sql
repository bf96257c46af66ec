-- Who the caller is, decided by the database (issue 14; docs/reliability.md, "Trust").
--
-- The API connects as `cadastre_api` and is trusted only to pass on what its caller proved.
--   * Passwords are bcrypt hashes checked here (auth_sign_in); the API never reads a hash.
--   * Tokens are HS256 JWTs minted and verified here with keys in auth_signing_key, a table
--     that only `cadastre_auth` (NOLOGIN, no superuser) reads and that backups leave out.
--     A token names the account's token_version: disabling an account, changing its role
--     or its password bumps it, so the token stops working at once.
--   * auth_act(credential, ...) starts a request's transaction: it verifies the token (or
--     API key) and records the proven actor and role in transaction-local settings, sealed
--     with an HMAC over them, the backend and the transaction's start. The API can still
--     write those settings, but not the seal: personal_data_role() and proven_actor() trust
--     them only when the seal holds, and answer 'anonymous' otherwise.
--   * Sessions of the database owner or a superuser (the `cadastre` commands) are trusted:
--     they could read every table anyway; their settings say who runs the command.

-- --- helpers (no secrets) ------------------------------------------------------------------
CREATE OR REPLACE FUNCTION auth_b64url(data bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(encode(data, 'base64'), E'+/=\n', '-_')
$$;

CREATE OR REPLACE FUNCTION auth_b64url_decode(data text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT decode(rpad(translate(data, '-_', '+/'), (length(data) + 3) / 4 * 4, '='), 'base64')
$$;

-- The session is the database owner's or a superuser's (the command line, imports,
-- migrations), not the API's. Evaluated on the login role (session_user), so no SET ROLE
-- changes it. pg_has_role(.., 'pg_database_owner', 'MEMBER') is true exactly for the
-- current database's owner (and roles that are members of it) and for superusers; it is a
-- function of pg_catalog, named with its schema (functions are never looked up in
-- pg_temp), and reads no relation a temporary object could stand in for. The body is one
-- expression without a SET clause, so the planner inlines it: the privileges views call it
-- in every masked column, and the former version (a join of pg_roles and pg_database with
-- a pinned search path, planned again in every query that called it) cost 0.1-0.25 ms a
-- call (docs/benchmarks.md, "Parcel file").
CREATE OR REPLACE FUNCTION auth_trusted_session() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.pg_has_role(session_user, 'pg_database_owner', 'MEMBER')
$$;
-- A SET clause does not go away with CREATE OR REPLACE: reset it.
ALTER FUNCTION auth_trusted_session() RESET ALL;

-- --- keys ----------------------------------------------------------------------------------
-- The current signing key, made when there is none (a new database, or one restored from a
-- backup, which never carries the keys).
CREATE OR REPLACE FUNCTION auth_ensure_key() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    found text;
BEGIN
    SELECT kid INTO found FROM auth_signing_key WHERE retired_at IS NULL;
    IF found IS NULL THEN
        INSERT INTO auth_signing_key (kid, secret)
        VALUES (auth_b64url(gen_random_bytes(9)), gen_random_bytes(32))
        ON CONFLICT DO NOTHING;
        SELECT kid INTO found FROM auth_signing_key WHERE retired_at IS NULL;
    END IF;
    RETURN found;
END;
$$;

-- `cadastre auth rotate-key`: a new key signs from now on; the old one still verifies the
-- tokens it signed for `accept` (one token lifetime), then nothing.
CREATE OR REPLACE FUNCTION auth_rotate_key(accept interval) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF accept < interval '0' OR accept > interval '2 days' THEN
        RAISE EXCEPTION 'a retired key is accepted for 0 to 2 days, not %', accept
            USING ERRCODE = '22023';
    END IF;
    UPDATE auth_signing_key SET retired_at = now(), accepted_until = now() + accept
    WHERE retired_at IS NULL;
    DELETE FROM auth_signing_key WHERE accepted_until < now();
    RETURN auth_ensure_key();
END;
$$;

-- --- tokens --------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION auth_issue(account bigint, minutes integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    u app_user;
    k auth_signing_key;
    head text;
    body text;
    issued bigint := floor(extract(epoch FROM clock_timestamp()));
BEGIN
    SELECT * INTO u FROM app_user WHERE id = account AND NOT disabled;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no active account %', account USING ERRCODE = '28000';
    END IF;
    PERFORM auth_ensure_key();
    SELECT * INTO k FROM auth_signing_key WHERE retired_at IS NULL;
    head := auth_b64url(convert_to(jsonb_build_object(
        'alg', 'HS256', 'typ', 'JWT', 'kid', k.kid)::text, 'UTF8'));
    body := auth_b64url(convert_to(jsonb_build_object(
        'sub', u.username, 'uid', u.id, 'role', u.role, 'ver', u.token_version,
        'aud', 'cadastre-api', 'iat', issued,
        'exp', issued + 60 * least(greatest(minutes, 1), 1440))::text, 'UTF8'));
    RETURN head || '.' || body || '.'
        || auth_b64url(hmac(convert_to(head || '.' || body, 'UTF8'), k.secret, 'sha256'));
END;
$$;

-- Sign-in: the token for a username and password, or NULL (one answer for every failure;
-- an unknown account costs the same bcrypt round as a known one).
CREATE OR REPLACE FUNCTION auth_sign_in(login text, password text, minutes integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    u app_user;
    stored text;
BEGIN
    SELECT * INTO u FROM app_user WHERE username = login;
    stored := CASE WHEN u.password_hash LIKE '$2_$%' THEN u.password_hash END;
    IF stored IS NULL THEN
        PERFORM crypt(coalesce(password, ''), gen_salt('bf', 10));
        RETURN NULL;
    END IF;
    IF crypt(coalesce(password, ''), stored) <> stored OR u.disabled THEN
        RETURN NULL;
    END IF;
    -- staff act for an office (sql/functions/offices.sql): an account left without one (by
    -- migration 0019) is told so, once its password is proved, until an admin sets it
    IF u.role IN ('counter_clerk', 'land_officer', 'supervisor') AND u.office_code IS NULL THEN
        RAISE EXCEPTION 'the account % belongs to no office', u.username
            USING ERRCODE = 'CD010', HINT = 'an admin sets it: cadastre user set-office';
    END IF;
    RETURN auth_issue(u.id, minutes);
END;
$$;

-- Who a bearer token or API key belongs to, as the account is now: one row, with
-- `problem` set ('invalid', 'expired', 'revoked') when it proves nothing.
CREATE OR REPLACE FUNCTION auth_verify(credential text)
RETURNS TABLE (user_id bigint, username text, role text, via text, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parts text[];
    head jsonb;
    claims jsonb;
    secret bytea;
    u app_user;
    key_row api_key;
BEGIN
    parts := string_to_array(coalesce(credential, ''), '.');
    IF length(credential) > 4096 OR cardinality(parts) NOT IN (2, 3) THEN
        problem := 'invalid'; RETURN NEXT; RETURN;
    END IF;
    IF cardinality(parts) = 2 THEN  -- an API key: prefix.secret, only its sha256 is kept
        SELECT * INTO key_row FROM api_key k WHERE k.prefix = parts[1] AND k.revoked_at IS NULL;
        SELECT * INTO u FROM app_user a WHERE a.id = key_row.user_id AND NOT a.disabled;
        IF key_row.id IS NULL OR u.id IS NULL
           OR key_row.key_hash <> encode(digest(convert_to(credential, 'UTF8'), 'sha256'), 'hex')
        THEN
            problem := 'invalid'; RETURN NEXT; RETURN;
        END IF;
        user_id := u.id; username := u.username; role := u.role; via := 'api-key';
        RETURN NEXT; RETURN;
    END IF;
    BEGIN
        head := convert_from(auth_b64url_decode(parts[1]), 'UTF8')::jsonb;
        claims := convert_from(auth_b64url_decode(parts[2]), 'UTF8')::jsonb;
    EXCEPTION WHEN others THEN
        problem := 'invalid'; RETURN NEXT; RETURN;
    END;
    IF jsonb_typeof(head) IS DISTINCT FROM 'object' OR jsonb_typeof(claims) IS DISTINCT FROM 'object'
       OR head ->> 'alg' IS DISTINCT FROM 'HS256' THEN
        problem := 'invalid'; RETURN NEXT; RETURN;
    END IF;
    SELECT k.secret INTO secret FROM auth_signing_key k
    WHERE k.kid = head ->> 'kid' AND (k.retired_at IS NULL OR k.accepted_until > now());
    IF secret IS NULL OR parts[3] IS DISTINCT FROM
            auth_b64url(hmac(convert_to(parts[1] || '.' || parts[2], 'UTF8'), secret, 'sha256'))
       OR claims ->> 'aud' IS DISTINCT FROM 'cadastre-api'
       OR jsonb_typeof(claims -> 'exp') IS DISTINCT FROM 'number'
       OR jsonb_typeof(claims -> 'uid') IS DISTINCT FROM 'number'
       OR jsonb_typeof(claims -> 'ver') IS DISTINCT FROM 'number' THEN
        problem := 'invalid'; RETURN NEXT; RETURN;
    END IF;
    IF (claims ->> 'exp')::numeric <= extract(epoch FROM now()) THEN
        problem := 'expired'; RETURN NEXT; RETURN;
    END IF;
    SELECT * INTO u FROM app_user a WHERE a.id = (claims ->> 'uid')::numeric;
    IF u.id IS NULL OR u.disabled OR u.token_version <> (claims ->> 'ver')::numeric
       OR u.username IS DISTINCT FROM claims ->> 'sub' THEN
        problem := 'revoked'; RETURN NEXT; RETURN;
    END IF;
    user_id := u.id; username := u.username; role := u.role; via := 'token';
    RETURN NEXT;
END;
$$;

-- --- the proven end user of a transaction --------------------------------------------------
CREATE OR REPLACE FUNCTION auth_seal_message() RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT convert_to(concat_ws(chr(31), 'cadastre-proof',
                                current_setting('cadastre.actor', true),
                                current_setting('cadastre.role', true),
                                current_setting('cadastre.uid', true),
                                pg_backend_pid()::text,
                                extract(epoch FROM now())::text), 'UTF8')
$$;

CREATE OR REPLACE FUNCTION auth_seal_holds() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    claimed text := nullif(current_setting('cadastre.proof', true), '');
BEGIN
    IF claimed IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM auth_signing_key k
                   WHERE (k.retired_at IS NULL OR k.accepted_until > now())
                     AND encode(hmac(auth_seal_message(), k.secret, 'sha256'), 'hex') = claimed);
END;
$$;

-- Begin a request's work as the caller proved: verify the credential, then record actor,
-- role and account for this transaction, sealed. A credential that proves nothing raises
-- 28000 (the API answers 401).
CREATE OR REPLACE FUNCTION auth_act(credential text, endpoint text, dossier text)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    who record;
    sealed text;
BEGIN
    SELECT * INTO who FROM auth_verify(credential);
    IF who.user_id IS NULL THEN
        RAISE EXCEPTION 'the credential proves no active account (%)', who.problem
            USING ERRCODE = '28000';
    END IF;
    PERFORM set_config('cadastre.actor', who.username, true),
            set_config('cadastre.role', who.role, true),
            set_config('cadastre.uid', who.user_id::text, true),
            set_config('cadastre.endpoint', coalesce(endpoint, ''), true),
            set_config('cadastre.dossier', coalesce(dossier, ''), true);
    PERFORM auth_ensure_key();
    SELECT encode(hmac(auth_seal_message(), k.secret, 'sha256'), 'hex') INTO sealed
    FROM auth_signing_key k WHERE k.retired_at IS NULL;
    PERFORM set_config('cadastre.proof', sealed, true);
    RETURN who.role;
END;
$$;

-- The end user's role as the database accepts it: the command line's own setting in a
-- trusted session; in the API's, the sealed one or else 'anonymous'.
CREATE OR REPLACE FUNCTION personal_data_role() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN auth_trusted_session() OR auth_seal_holds()
                THEN coalesce(nullif(current_setting('cadastre.role', true), ''), 'anonymous')
                ELSE 'anonymous' END
$$;

CREATE OR REPLACE FUNCTION proven_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN auth_trusted_session()
                THEN coalesce(nullif(current_setting('cadastre.actor', true), ''), session_user)
                WHEN auth_seal_holds() THEN current_setting('cadastre.actor', true)
                ELSE 'anonymous' END
$$;

-- --- accounts ------------------------------------------------------------------------------
-- Disabling an account, changing its role, name or password ends its tokens.
CREATE OR REPLACE FUNCTION app_user_token_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role IS DISTINCT FROM OLD.role OR NEW.disabled IS DISTINCT FROM OLD.disabled
       OR NEW.password_hash IS DISTINCT FROM OLD.password_hash
       OR NEW.username IS DISTINCT FROM OLD.username THEN
        NEW.token_version := OLD.token_version + 1;
    ELSIF NEW.token_version < OLD.token_version THEN
        NEW.token_version := OLD.token_version;  -- never back to a version already used
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER IF EXISTS app_user_token_version ON app_user;
CREATE TRIGGER app_user_token_version BEFORE UPDATE ON app_user
    FOR EACH ROW EXECUTE FUNCTION app_user_token_version();

-- The account list of `GET /api/v1/users`, for a proven admin only (no hashes).
CREATE OR REPLACE FUNCTION auth_users()
RETURNS TABLE (username text, full_name text, role text, office_code text, disabled boolean,
               created_at timestamptz, keys bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF personal_data_role() <> 'admin' THEN
        RAISE EXCEPTION 'only an admin lists accounts' USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        SELECT u.username, u.full_name, u.role, u.office_code, u.disabled, u.created_at,
               (SELECT count(*) FROM api_key k WHERE k.user_id = u.id AND k.revoked_at IS NULL)
        FROM app_user u ORDER BY u.username;
END;
$$;

-- --- ownership and who may call what --------------------------------------------------------
ALTER TABLE auth_signing_key OWNER TO cadastre_auth;
REVOKE ALL ON auth_signing_key FROM PUBLIC;
GRANT SELECT ON app_user, api_key TO cadastre_auth;
GRANT USAGE ON SCHEMA public TO cadastre_auth;
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['auth_ensure_key()', 'auth_rotate_key(interval)',
                             'auth_issue(bigint, integer)', 'auth_sign_in(text, text, integer)',
                             'auth_verify(text)', 'auth_act(text, text, text)',
                             'auth_users()'] LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO cadastre_auth', f);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
    -- a boolean that reveals nothing: every role's views call it
    ALTER FUNCTION auth_seal_holds() OWNER TO cadastre_auth;
END;
$$;
-- What the API may call (privileges.sql grants them to cadastre_api).
SELECT auth_ensure_key();
