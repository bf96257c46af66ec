-- Financial facts as the transaction's end-user role may see them (the "financial facts"
-- column of cadastre/access.py). Re-applied on every upgrade after privileges.sql, whose
-- role functions it uses (the files run in sorted order: this name sorts after it).
--
-- Everyone sees a restriction's kind and dates (that a parcel is mortgaged or enjoined);
-- the roles that see names see its reference, description and counterparty, and the
-- documents of private changes; only land officers and admins see the secured amount.
-- Sessions of other database users (the owner's commands, imports, backups) see the
-- columns as they are. The API reads restrictions and change documents through these views.

CREATE OR REPLACE FUNCTION role_sees_financial_references() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT auth_trusted_session() OR role_sees_names()
$$;

CREATE OR REPLACE FUNCTION role_sees_financial_amounts() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT auth_trusted_session() OR role_sees_all_personal_data()
$$;

-- cadastre.access.PRIVATE_CHANGE_KINDS: changes between private parties (and the orders
-- that freeze them), whose documents and notes are financial facts of the holders.
CREATE OR REPLACE FUNCTION change_kind_is_private(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT kind IN ('first_registration', 'transfer', 'inheritance', 'gift', 'mortgage',
                    'mortgage_release', 'injunction', 'injunction_release',
                    'certificate_reissue',
                    -- a holder's certificate and obligations (a deferred land levy is a debt)
                    'certificate_issue', 'certificate_endorsement', 'certificate_exchange',
                    'certificate_revocation', 'responsibility', 'responsibility_end',
                    -- who a person is: the documents of a merge of duplicate records, of a
                    -- household's members
                    'party_merge', 'party_member', 'party_member_end')
$$;

CREATE OR REPLACE VIEW restriction_visible WITH (security_barrier = false) AS
SELECT r.version_id, r.restriction_id, r.kind, r.parcel_id, r.lifespan, r.begun_by,
       r.ended_by,
       CASE WHEN role_sees_financial_references() THEN r.party_id END AS party_id,
       CASE WHEN role_sees_financial_references() THEN r.reference END AS reference,
       CASE WHEN role_sees_financial_references() THEN r.description END AS description,
       CASE WHEN role_sees_financial_amounts() THEN r.amount END AS amount
FROM restriction r;

-- The documents of each change (change_source + source_document), with the reference,
-- issuer and description of a private change's documents for the roles that see them.
CREATE OR REPLACE VIEW change_document_visible WITH (security_barrier = false) AS
SELECT cs.change_id, s.id AS source_id, s.kind, s.issued_on,
       CASE WHEN role_sees_financial_references() OR NOT change_kind_is_private(c.kind)
            THEN s.reference END AS reference,
       CASE WHEN role_sees_financial_references() OR NOT change_kind_is_private(c.kind)
            THEN s.issuer END AS issuer,
       CASE WHEN role_sees_financial_references() OR NOT change_kind_is_private(c.kind)
            THEN s.description END AS description
FROM change_source cs
JOIN source_document s ON s.id = cs.source_id
JOIN change_transaction c ON c.id = cs.change_id;

-- A quarantined import row's source attributes as the role may see them. The importer
-- records in each row's attributes, under "_personal", which source columns its profile
-- mapped to personal fields ({"CCCD": "owner_id", "NamSinh": "owner_birth_year", ...}):
-- names for the roles that see names, ID numbers masked for clerks and supervisors, birth
-- years and addresses for land officers and admins only. A row without that record (an
-- import made before it was kept) shows its attributes to land officers and admins only.
CREATE OR REPLACE FUNCTION quarantine_attributes_visible(attributes jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN auth_trusted_session() OR role_sees_all_personal_data() THEN attributes
        WHEN jsonb_typeof(attributes -> '_personal') IS DISTINCT FROM 'object'
            THEN jsonb_build_object('personal_data', 'withheld')
        ELSE attributes || coalesce((
            SELECT jsonb_object_agg(p.key, CASE
                WHEN a.value = 'null'::jsonb THEN a.value
                WHEN p.value = 'owner_name' AND role_sees_names() THEN a.value
                WHEN p.value = 'owner_id' AND role_sees_names()
                    THEN to_jsonb(masked_id(a.value #>> '{}'))
                ELSE '"withheld"'::jsonb END)
            FROM jsonb_each_text(attributes -> '_personal') p
            JOIN jsonb_each(attributes) a ON a.key = p.key), '{}'::jsonb)
    END
$$;

CREATE OR REPLACE VIEW import_quarantine_visible WITH (security_barrier = false) AS
SELECT q.id, q.import_id, q.dataset, q.layer, q.feature_index, q.reason_code, q.reason,
       q.identity, quarantine_attributes_visible(q.attributes) AS attributes, q.geom
FROM import_quarantine q;

GRANT SELECT ON restriction_visible, change_document_visible, import_quarantine_visible
    TO cadastre_api;

-- A change's note as the role may see it: the notes of private changes are financial facts
-- of the holders, like their documents.
CREATE OR REPLACE VIEW change_visible WITH (security_barrier = false) AS
SELECT c.id, c.kind, c.happened_at, c.recorded_at, c.recorded_by, c.dossier_code,
       CASE WHEN role_sees_financial_references() OR NOT change_kind_is_private(c.kind)
            THEN c.note END AS note
FROM change_transaction c;

GRANT SELECT ON change_visible TO cadastre_api;

-- The API's login reads the financial columns only through the views above: not from the
-- tables (nor from current_restriction, a plain view with its owner's rights). It may still
-- write them (a new mortgage names its amount); the writes that must match or copy them go
-- through the two functions below.
DO $$
DECLARE
    hidden constant jsonb := '{"restriction": ["party_id", "reference", "description", "amount"],
                               "current_restriction": ["party_id", "reference", "description",
                                                       "amount"],
                               "source_document": ["reference", "issuer", "description"],
                               "change_transaction": ["note"],
                               "import_quarantine": ["attributes"]}';
    t text;
BEGIN
    FOR t IN SELECT jsonb_object_keys(hidden) LOOP
        EXECUTE format('REVOKE SELECT ON %I FROM cadastre_api', t);
        EXECUTE (SELECT format('GRANT SELECT (%s) ON %I TO cadastre_api',
                               string_agg(quote_ident(attname), ', ' ORDER BY attnum), t)
                 FROM pg_attribute
                 WHERE attrelid = t::regclass AND attnum > 0 AND NOT attisdropped
                   AND NOT (hidden -> t) ? attname::text);
    END LOOP;
END;
$$;

-- End the current restrictions of a kind with a reference on a parcel (a mortgage release,
-- the lifting of an injunction): the number ended. The statement runs as cadastre_definer,
-- which reads the reference; the write rule and the history triggers still check the
-- caller's proven role and the closing of the version.
CREATE OR REPLACE FUNCTION restriction_end(parcel bigint, restriction_kind text, ref text,
                                           change bigint, at timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    ended integer;
BEGIN
    UPDATE restriction SET lifespan = tstzrange(lower(lifespan), at, '[)'), ended_by = change
    WHERE upper_inf(lifespan) AND parcel_id = parcel AND kind = restriction_kind
      AND reference = ref;
    GET DIAGNOSTICS ended = ROW_COUNT;
    RETURN ended;
END;
$$;

-- A split's or merge's child inherits its parents' current restrictions (new ids, beginning
-- with the change), with their counterparties, references and amounts unchanged whichever
-- role records the change: the number carried.
CREATE OR REPLACE FUNCTION restrictions_carry(parents bigint[], child bigint, change bigint,
                                              at timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    carried integer;
BEGIN
    INSERT INTO restriction (restriction_id, kind, parcel_id, party_id, reference,
                             description, amount, lifespan, begun_by)
    SELECT nextval('restriction_id_seq'), kind, child, party_id, reference, description,
           amount, tstzrange(at, NULL, '[)'), change
    FROM (SELECT DISTINCT kind, party_id, reference, description, amount
          FROM current_restriction WHERE parcel_id = ANY(parents)) r;
    GET DIAGNOSTICS carried = ROW_COUNT;
    RETURN carried;
END;
$$;

GRANT INSERT ON restriction TO cadastre_definer;
GRANT UPDATE (lifespan, ended_by) ON restriction TO cadastre_definer;
ALTER FUNCTION restriction_end(bigint, text, text, bigint, timestamptz) OWNER TO cadastre_definer;
ALTER FUNCTION restrictions_carry(bigint[], bigint, bigint, timestamptz)
    OWNER TO cadastre_definer;
REVOKE ALL ON FUNCTION restriction_end(bigint, text, text, bigint, timestamptz),
    restrictions_carry(bigint[], bigint, bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION restriction_end(bigint, text, text, bigint, timestamptz),
    restrictions_carry(bigint[], bigint, bigint, timestamptz) TO cadastre_api;
