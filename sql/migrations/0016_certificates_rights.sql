-- Certificates (GCN) with a lifecycle, what a transfer moves, and rights at retirement.
--
-- * change kinds for the certificate's lifecycle (re-issue after loss is 0003's
--   'certificate_reissue') and for responsibilities;
-- * certificate_holder: the holders a certificate version names (versioned with it, like
--   certificate_parcel);
-- * certificate_seal_key: the key of the certificates' verification codes (the QR content,
--   Circular 10/2024/TT-BTNMT), owned by cadastre_auth and read by nobody else
--   (sql/functions/privileges_certificates.sql);
-- * a lender's active mortgage is named by its contract reference: two active mortgages of
--   one lender with one reference on one parcel are refused by the database (across parcels
--   the change operation checks, serialised per lender and reference);
-- * the operations an approval may apply include the certificate's issue, exchange and
--   re-issue.

ALTER TABLE change_transaction DROP CONSTRAINT change_transaction_kind_check;
ALTER TABLE change_transaction ADD CONSTRAINT change_transaction_kind_check CHECK (kind IN (
    'import', 'first_registration', 'transfer', 'inheritance', 'gift', 'mortgage',
    'mortgage_release', 'injunction', 'injunction_release', 'purpose_change', 'split', 'merge',
    'boundary_correction', 'certificate_reissue', 'correction',
    'certificate_issue', 'certificate_endorsement', 'certificate_exchange',
    'certificate_revocation',
    'responsibility', 'responsibility_end'));

-- The holders a certificate version names (người sử dụng đất, chủ sở hữu tài sản gắn liền
-- với đất): written with the version, never edited (a change of holders is a new version).
-- Certificates loaded from legacy registers have no rows here: their holders are the rights
-- that name the certificate.
CREATE TABLE certificate_holder (
    certificate_version_id  bigint NOT NULL REFERENCES certificate (version_id),
    party_id                bigint NOT NULL REFERENCES party (id),
    PRIMARY KEY (certificate_version_id, party_id)
);
CREATE INDEX certificate_holder_party_idx ON certificate_holder (party_id);
CREATE TRIGGER certificate_holder_immutable BEFORE UPDATE OR DELETE ON certificate_holder
    FOR EACH ROW EXECUTE FUNCTION forbid_rewrite();

-- Which certificate a replacement replaced is looked up by the status of the old one.
CREATE INDEX certificate_replaces_idx ON certificate (replaces_certificate)
    WHERE replaces_certificate IS NOT NULL;
CREATE INDEX certificate_certificate_id_idx ON certificate (certificate_id);

-- The verification code's key: one row, made by privileges_certificates.sql when missing.
-- Unlike the token keys it is kept by backups: a certificate's QR code is printed on paper
-- and must verify for as long as the certificate is valid.
CREATE TABLE certificate_seal_key (
    id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    secret      bytea NOT NULL CHECK (length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX restriction_mortgage_reference_uidx
    ON restriction (party_id, reference, parcel_id)
    WHERE kind = 'mortgage' AND upper_inf(lifespan);

ALTER TABLE procedure DROP CONSTRAINT procedure_operation_check;
ALTER TABLE procedure ADD CONSTRAINT procedure_operation_check CHECK (operation IN (
    'transfer', 'inheritance', 'gift', 'mortgage', 'mortgage_release', 'injunction',
    'injunction_release', 'certificate_issue', 'certificate_exchange',
    'certificate_reissue'));
