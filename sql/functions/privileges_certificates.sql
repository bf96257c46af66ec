-- Certificates (GCN) and the restrictions a change names, as the API's login may touch them.
-- Re-applied on every upgrade after privileges.sql (the files run in sorted order: this
-- name sorts after it), whose grants it completes.
--
-- A certificate's verification code (the QR content of Circular 10/2024/TT-BTNMT) is
-- "<certificate id>-<mac>": the mac an HMAC-SHA256 over the certificate's id and serial with
-- the key of certificate_seal_key, which only cadastre_auth reads (neither the API's login
-- nor cadastre_definer). A code cannot be made without the key, and it names one
-- certificate: whoever reads the public verification learns only what that certificate
-- shows publicly. The key is kept by backups (a printed code must verify as long as the
-- certificate is valid) and never enters the audit log.

ALTER TABLE certificate_seal_key OWNER TO cadastre_auth;
REVOKE ALL ON certificate_seal_key FROM PUBLIC, cadastre_api, cadastre_definer;
DROP TRIGGER IF EXISTS audit_row ON certificate_seal_key;
GRANT SELECT ON certificate TO cadastre_auth;

-- The key, made when there is none (a new database).
CREATE OR REPLACE FUNCTION certificate_seal_ensure() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO certificate_seal_key (id, secret) VALUES (1, gen_random_bytes(32))
    ON CONFLICT (id) DO NOTHING
$$;
ALTER FUNCTION certificate_seal_ensure() OWNER TO cadastre_auth;
REVOKE ALL ON FUNCTION certificate_seal_ensure() FROM PUBLIC;
SELECT certificate_seal_ensure();

CREATE OR REPLACE FUNCTION certificate_mac(cid bigint, serial text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT encode(substring(hmac(convert_to(concat_ws(chr(31), 'cadastre-certificate',
                                                      cid::text, serial), 'UTF8'),
                                 k.secret, 'sha256') FROM 1 FOR 12), 'hex')
    FROM certificate_seal_key k
$$;

-- The verification code of a certificate, for staff who see holders' names (they print
-- and hand over certificates) and for the commands; NULL for an unknown certificate.
CREATE OR REPLACE FUNCTION certificate_code(cid bigint) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    printed text;
BEGIN
    IF NOT (auth_trusted_session() OR personal_data_role() IN ('land_officer', 'admin',
                                                               'supervisor', 'counter_clerk'))
    THEN
        RAISE EXCEPTION 'the % role may not read certificates'' verification codes',
            personal_data_role() USING ERRCODE = '42501';
    END IF;
    SELECT c.serial INTO printed FROM certificate c WHERE c.certificate_id = cid
    ORDER BY c.version_id LIMIT 1;
    IF printed IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN cid::text || '-' || certificate_mac(cid, printed);
END;
$$;

-- The certificate a verification code names, or NULL (malformed, unknown or forged: one
-- answer for all). Anyone may ask.
CREATE OR REPLACE FUNCTION certificate_by_code(code text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parts text[];
    cid bigint;
    printed text;
BEGIN
    parts := regexp_match(lower(btrim(coalesce(code, ''))), '^([0-9]{1,18})-([0-9a-f]{24})$');
    IF parts IS NULL THEN
        RETURN NULL;
    END IF;
    cid := parts[1]::bigint;
    SELECT c.serial INTO printed FROM certificate c WHERE c.certificate_id = cid
    ORDER BY c.version_id LIMIT 1;
    IF printed IS NULL OR certificate_mac(cid, printed) IS DISTINCT FROM parts[2] THEN
        RETURN NULL;
    END IF;
    RETURN cid;
END;
$$;

ALTER FUNCTION certificate_mac(bigint, text) OWNER TO cadastre_auth;
ALTER FUNCTION certificate_code(bigint) OWNER TO cadastre_auth;
ALTER FUNCTION certificate_by_code(text) OWNER TO cadastre_auth;
REVOKE ALL ON FUNCTION certificate_mac(bigint, text), certificate_code(bigint),
    certificate_by_code(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION certificate_code(bigint), certificate_by_code(text) TO cadastre_api;

-- A name as the public verification prints it: organisations', communities' and religious
-- establishments' names in full (not personal data); a person's or a household's as
-- initials ("Hộ ông N. V. A."), so that whoever holds the paper can match it while the
-- verification is no directory of who holds which parcel (cadastre/access.py: the public
-- sees no holders' names).
CREATE OR REPLACE FUNCTION printed_initials(full_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(m[1] || ' ', '') || coalesce((
        SELECT string_agg(upper(left(w, 1)) || '.', ' ' ORDER BY i)
        FROM regexp_split_to_table(btrim(coalesce(m[2], full_name)), '\s+')
             WITH ORDINALITY AS t(w, i) WHERE w <> ''), '')
    FROM (SELECT regexp_match(btrim(full_name),
                              '^([Hh]ộ(?:\s+gia\s+đình)?(?:\s+(?:ông|bà|Ông|Bà))?)\s+(.+)$')
                 AS m) x
$$;

-- The holders a certificate version names, as the public verification shows them: the
-- version's certificate_holder rows, or for a certificate loaded from a legacy register
-- (no rows) the parties of the rights that named it while the version was current.
CREATE OR REPLACE FUNCTION certificate_printed_holders(certificate_version bigint)
RETURNS TABLE (kind text, printed_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH v AS (SELECT * FROM certificate WHERE version_id = certificate_version),
    named AS (
        SELECT h.party_id FROM certificate_holder h WHERE h.certificate_version_id =
            certificate_version
        UNION
        SELECT r.party_id FROM land_right r, v
        WHERE r.certificate_id = v.certificate_id AND r.lifespan && v.lifespan
          AND NOT EXISTS (SELECT 1 FROM certificate_holder h
                          WHERE h.certificate_version_id = certificate_version))
    SELECT p.kind, CASE WHEN p.kind IN ('individual', 'household', 'group')
                        THEN printed_initials(p.name) ELSE p.name END
    FROM named n JOIN party p ON p.id = n.party_id
    ORDER BY p.kind, p.id
$$;

ALTER FUNCTION certificate_printed_holders(bigint) OWNER TO cadastre_definer;
REVOKE ALL ON FUNCTION certificate_printed_holders(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION certificate_printed_holders(bigint) TO cadastre_api;

-- The versions' holders are written with them by the change operations.
GRANT INSERT ON certificate_holder TO cadastre_api;
DROP TRIGGER IF EXISTS write_rule ON certificate_holder;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON certificate_holder
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule('land_officer', 'supervisor', 'admin');

-- --- restrictions named by a change (the API's login reads no reference nor counterparty) --
-- Only for the roles that change the register (write_rule), and the commands: what they
-- answer are financial facts.
CREATE OR REPLACE FUNCTION require_register_writer() RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT (auth_trusted_session()
            OR personal_data_role() IN ('land_officer', 'supervisor', 'admin')) THEN
        RAISE EXCEPTION 'the % role may not change the register', personal_data_role()
            USING ERRCODE = '42501';
    END IF;
END;
$$;

-- The parcels on which a lender holds an active mortgage with this contract reference;
-- serialised per lender and reference until the transaction ends, so that two
-- registrations of one contract on two parcels cannot both pass. With `dossier`, the
-- mortgages that dossier registered are left out: one contract over several parcels, one
-- mortgage per parcel, all registered by the dossier's approval.
CREATE OR REPLACE FUNCTION mortgage_reference_in_use(lender bigint, ref text, dossier text)
RETURNS bigint[]
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM require_register_writer();
    PERFORM pg_advisory_xact_lock(hashtext('mortgage-reference'),
                                  hashtext(lender::text || chr(31) || ref));
    RETURN (SELECT array_agg(DISTINCT r.parcel_id ORDER BY r.parcel_id) FROM restriction r
            JOIN change_transaction c ON c.id = r.begun_by
            WHERE r.kind = 'mortgage' AND upper_inf(r.lifespan) AND r.party_id = lender
              AND r.reference = ref
              AND (dossier IS NULL OR c.dossier_code IS DISTINCT FROM dossier));
END;
$$;

CREATE OR REPLACE FUNCTION mortgage_reference_in_use(lender bigint, ref text) RETURNS bigint[]
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT mortgage_reference_in_use(lender, ref, NULL)
$$;

-- End the one current restriction of a kind on a parcel that the caller names (by its id,
-- its reference, its counterparty, or several of these): `matched` says how many matched,
-- and only when exactly one did is it ended; `counterparties` lets the caller say whose
-- they are when the name was ambiguous.
CREATE OR REPLACE FUNCTION restriction_end_one(parcel bigint, restriction_kind text, rid bigint,
                                               ref text, counterparty bigint, change bigint,
                                               at timestamptz)
RETURNS TABLE (matched integer, counterparties bigint[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    target bigint;
BEGIN
    PERFORM require_register_writer();
    SELECT count(*)::integer,
           array_agg(DISTINCT r.party_id ORDER BY r.party_id)
               FILTER (WHERE r.party_id IS NOT NULL),
           min(r.version_id)
    INTO matched, counterparties, target
    FROM restriction r
    WHERE upper_inf(r.lifespan) AND r.parcel_id = parcel AND r.kind = restriction_kind
      AND (rid IS NULL OR r.restriction_id = rid) AND (ref IS NULL OR r.reference = ref)
      AND (counterparty IS NULL OR r.party_id = counterparty);
    IF matched = 1 THEN
        UPDATE restriction SET lifespan = tstzrange(lower(lifespan), at, '[)'), ended_by = change
        WHERE version_id = target;
    END IF;
    RETURN NEXT;
END;
$$;

GRANT UPDATE (lifespan, ended_by) ON restriction TO cadastre_definer;
ALTER FUNCTION mortgage_reference_in_use(bigint, text) OWNER TO cadastre_definer;
ALTER FUNCTION mortgage_reference_in_use(bigint, text, text) OWNER TO cadastre_definer;
ALTER FUNCTION restriction_end_one(bigint, text, bigint, text, bigint, bigint, timestamptz)
    OWNER TO cadastre_definer;
REVOKE ALL ON FUNCTION mortgage_reference_in_use(bigint, text),
    mortgage_reference_in_use(bigint, text, text),
    restriction_end_one(bigint, text, bigint, text, bigint, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mortgage_reference_in_use(bigint, text),
    mortgage_reference_in_use(bigint, text, text),
    restriction_end_one(bigint, text, bigint, text, bigint, bigint, timestamptz)
    TO cadastre_api;
