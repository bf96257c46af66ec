-- The party register (người sử dụng đất, chủ sở hữu tài sản gắn liền với đất) that a
-- registration office keeps: parties created, found and edited through the API and the
-- command line, not only by imports.
--
-- * kinds of the Land Law 2024 (art. 4): religious organisations and establishments
--   (tổ chức tôn giáo, cơ sở tôn giáo), overseas Vietnamese (người Việt Nam định cư ở nước
--   ngoài) and foreigners (cá nhân nước ngoài, who may own houses) besides individuals,
--   households, organisations, communities and groups;
-- * a passport names its issuing country: party_personal.nationality (ISO 3166-1 alpha-3;
--   nationality is personal data, Decree 13/2023/NĐ-CP art. 2), and one identity document
--   (a kind and a number, a passport's with its country) names one party: a second party
--   with it is refused;
-- * organisations' tax or enterprise codes have the form of Thông tư 105/2020/TT-BTC and
--   name one organisation;
-- * a party is edited in place, its row_version moved by every edit (the ETag of
--   PATCH /api/v1/parties/{id}; sql/functions/parties.sql), with who made and last edited
--   it; the audit log keeps every earlier state;
-- * merging a duplicate party into another (a change of kind 'party_merge') moves its rights,
--   restrictions, responsibilities, certificate holdings and memberships as new versions and
--   marks it merged (merged_into, merged_by), never deleted; a household's members are
--   added and ended by changes of kinds 'party_member' and 'party_member_end'.

ALTER TABLE party DROP CONSTRAINT party_kind_check;
ALTER TABLE party ADD CONSTRAINT party_kind_check CHECK (kind IN (
    'individual', 'household', 'organisation', 'community', 'group',
    'religious', 'overseas_vietnamese', 'foreigner'));

ALTER TABLE party
    ADD COLUMN row_version  integer NOT NULL DEFAULT 1,
    ADD COLUMN created_by   text,
    ADD COLUMN edited_at    timestamptz,
    ADD COLUMN edited_by    text,
    ADD COLUMN merged_into  bigint REFERENCES party (id),
    ADD COLUMN merged_by    bigint REFERENCES change_transaction (id),
    ADD CONSTRAINT party_name_length_check CHECK (length(name) <= 300),
    ADD CONSTRAINT party_merged_check CHECK (merged_into IS DISTINCT FROM id
        AND (merged_into IS NULL) = (merged_by IS NULL)),
    ADD CONSTRAINT party_organisation_code_check CHECK (organisation_code IS NULL
        OR organisation_code ~ '^[0-9]{10}(-[0-9]{3})?$');
DROP INDEX party_organisation_code_idx;
CREATE UNIQUE INDEX party_organisation_code_uidx ON party (organisation_code)
    WHERE organisation_code IS NOT NULL;
CREATE INDEX party_merged_into_idx ON party (merged_into) WHERE merged_into IS NOT NULL;

ALTER TABLE party_personal
    ADD COLUMN nationality text CHECK (nationality ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT party_personal_passport_check CHECK (id_kind IS DISTINCT FROM 'passport'
        OR (national_id ~ '^[A-Z0-9]{5,20}$' AND nationality IS NOT NULL)),
    ADD CONSTRAINT party_personal_id_check CHECK ((id_kind IS NULL) = (national_id IS NULL));
-- One identity document, one party: a CCCD or CMND number by its kind, a passport by its
-- number and issuing country.
DROP INDEX party_personal_national_id_idx;
CREATE UNIQUE INDEX party_personal_identity_uidx ON party_personal (
    id_kind, (CASE WHEN id_kind = 'passport' THEN nationality ELSE '' END), national_id)
    WHERE national_id IS NOT NULL;
-- A search by ID number whatever its kind.
CREATE INDEX party_personal_national_id_idx ON party_personal (national_id)
    WHERE national_id IS NOT NULL;

CREATE INDEX certificate_holder_version_idx ON certificate_holder (certificate_version_id);
CREATE INDEX party_member_group_idx ON party_member (group_party_id);
CREATE INDEX responsibility_party_idx ON responsibility (party_id) WHERE party_id IS NOT NULL;
CREATE INDEX restriction_party_idx ON restriction (party_id) WHERE party_id IS NOT NULL;

ALTER TABLE change_transaction DROP CONSTRAINT change_transaction_kind_check;
ALTER TABLE change_transaction ADD CONSTRAINT change_transaction_kind_check CHECK (kind IN (
    'import', 'first_registration', 'transfer', 'inheritance', 'gift', 'mortgage',
    'mortgage_release', 'injunction', 'injunction_release', 'purpose_change', 'split', 'merge',
    'boundary_correction', 'certificate_reissue', 'correction',
    'certificate_issue', 'certificate_endorsement', 'certificate_exchange',
    'certificate_revocation',
    'responsibility', 'responsibility_end',
    'party_merge', 'party_member', 'party_member_end'));
