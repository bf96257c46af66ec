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
                    'certificate_reissue')
$$;

CREATE OR REPLACE VIEW restriction_visible WITH (security_barrier) AS
SELECT r.version_id, r.restriction_id, r.kind, r.parcel_id, r.lifespan, r.begun_by,
       r.ended_by,
       CASE WHEN role_sees_financial_references() THEN r.party_id END AS party_id,
       CASE WHEN role_sees_financial_references() THEN r.reference END AS reference,
       CASE WHEN role_sees_financial_references() THEN r.description END AS description,
       CASE WHEN role_sees_financial_amounts() THEN r.amount END AS amount
FROM restriction r;

-- The documents of each change (change_source + source_document), with the reference,
-- issuer and description of a private change's documents for the roles that see them.
CREATE OR REPLACE VIEW change_document_visible WITH (security_barrier) AS
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

CREATE OR REPLACE VIEW import_quarantine_visible WITH (security_barrier) AS
SELECT q.id, q.import_id, q.dataset, q.layer, q.feature_index, q.reason_code, q.reason,
       q.identity, quarantine_attributes_visible(q.attributes) AS attributes, q.geom
FROM import_quarantine q;

GRANT SELECT ON restriction_visible, change_document_visible, import_quarantine_visible
    TO cadastre_api;
