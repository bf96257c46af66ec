-- A dossier's approval applies the register change of its procedure, to every parcel the
-- dossier names, or the dossier is not approved (cadastre/dossiers/approval.py).
--
-- * procedure.operations: the operations of the catalogue (cadastre/changes/operations.py)
--   that the approval applies, in order. A name ending in '?' may be left out (a
--   certificate issued later, an endorsement); the others are applied at least once. An
--   operation may be applied in several consecutive steps (two children of a split sold to
--   two buyers). procedure.operation (0014) stays: it is the first operation of the list,
--   and a procedure written with operation alone (operations empty) applies that one.
-- * procedure.blocked_by_injunction: intake and approval of the procedure are refused while
--   a parcel of the dossier is under an active injunction (ngăn chặn).
-- * a change names an existing dossier: change_transaction.dossier_code references
--   dossier.code (NOT VALID: rows written before this migration are not re-checked).
-- * CHUYEN-NHUONG-MOT-PHAN: the sale of part of a parcel, a split then the transfer of one
--   of the children, in one dossier.

ALTER TABLE procedure ADD COLUMN operations text[] NOT NULL DEFAULT '{}';
ALTER TABLE procedure ADD COLUMN blocked_by_injunction boolean NOT NULL DEFAULT false;

-- The operations a dossier's approval can apply (Operation.by_approval in the catalogue).
ALTER TABLE procedure DROP CONSTRAINT procedure_operation_check;
ALTER TABLE procedure ADD CONSTRAINT procedure_operation_check CHECK (operation IN (
    'transfer', 'inheritance', 'gift', 'mortgage', 'mortgage_release', 'injunction',
    'injunction_release', 'certificate_issue', 'certificate_endorsement',
    'certificate_exchange', 'certificate_reissue', 'purpose_change', 'split', 'merge'));
ALTER TABLE procedure ADD CONSTRAINT procedure_operations_check CHECK (operations <@ ARRAY[
    'transfer', 'inheritance', 'gift', 'mortgage', 'mortgage_release', 'injunction',
    'injunction_release', 'certificate_issue', 'certificate_endorsement',
    'certificate_exchange', 'certificate_reissue', 'purpose_change', 'split', 'merge',
    'transfer?', 'inheritance?', 'gift?', 'mortgage?', 'mortgage_release?', 'injunction?',
    'injunction_release?', 'certificate_issue?', 'certificate_endorsement?',
    'certificate_exchange?', 'certificate_reissue?', 'purpose_change?', 'split?', 'merge?']);
ALTER TABLE procedure ADD CONSTRAINT procedure_operation_first_check CHECK (
    cardinality(operations) = 0 OR operation = rtrim(operations[1], '?'));

-- The sale of part of a parcel (chuyển nhượng một phần thửa đất): the parcel is split, then
-- the child sold is transferred, and the certificates issued, in one dossier. Decree
-- 151/2025/NĐ-CP gives the split (tách thửa) 12 working days and the transfer 8; done
-- together, the times of the procedures add up: 20. The documents are the two procedures'
-- (Decree 151/2025's forms: the application for a change, Mẫu số 18; the split drawing).
-- Check them against the province's current procedure list (data, editable by admins).
INSERT INTO procedure (code, name, level, working_days, steps, documents, fee_vnd, tax_step,
                       change_operation, operation, operations, blocked_by_injunction) VALUES
('CHUYEN-NHUONG-MOT-PHAN', 'Đăng ký biến động: tách thửa và chuyển nhượng một phần thửa đất',
 'province', 20,
 '["reception", "field_check", "tax_notice", "approval", "certificate_printing"]',
 '["Đơn đăng ký biến động đất đai, tài sản gắn liền với đất (Mẫu số 18)", "Bản vẽ tách thửa đất", "Hợp đồng chuyển nhượng phần thửa đất công chứng", "Giấy chứng nhận bản gốc"]',
 100000, true, 'transfer', 'split', '{split, transfer, certificate_issue?}', true);

UPDATE procedure SET operation = 'certificate_issue', operations = '{certificate_issue}'
 WHERE code = 'DK-LAN-DAU';
UPDATE procedure SET operation = 'transfer', operations = '{transfer}',
       blocked_by_injunction = true WHERE code = 'CHUYEN-NHUONG';
UPDATE procedure SET operation = 'inheritance', operations = '{inheritance}',
       blocked_by_injunction = true WHERE code = 'THUA-KE';
UPDATE procedure SET operation = 'gift', operations = '{gift}',
       blocked_by_injunction = true WHERE code = 'TANG-CHO';
UPDATE procedure SET operation = 'mortgage', operations = '{mortgage, certificate_endorsement?}',
       blocked_by_injunction = true WHERE code = 'THE-CHAP';
UPDATE procedure SET operation = 'mortgage_release',
       operations = '{mortgage_release, certificate_endorsement?}' WHERE code = 'XOA-THE-CHAP';
UPDATE procedure SET operation = 'purpose_change',
       operations = '{purpose_change, certificate_endorsement?}' WHERE code = 'CHUYEN-MUC-DICH';
UPDATE procedure SET operation = 'split', operations = '{split, certificate_issue?}',
       blocked_by_injunction = true WHERE code = 'TACH-THUA';
UPDATE procedure SET operation = 'merge', operations = '{merge, certificate_issue?}',
       blocked_by_injunction = true WHERE code = 'HOP-THUA';
-- Cấp đổi or cấp lại: one of the two.
UPDATE procedure SET operation = 'certificate_exchange',
       operations = '{certificate_exchange?, certificate_reissue?}' WHERE code = 'CAP-DOI';

ALTER TABLE change_transaction ADD CONSTRAINT change_transaction_dossier_code_fkey
    FOREIGN KEY (dossier_code) REFERENCES dossier (code) NOT VALID;
