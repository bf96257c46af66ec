-- The procedure catalogue of the two-level government (issue 17, item 3).
--
-- Since 2025-07-01 the land procedures, their level and their times are those of Decree
-- 151/2025/NĐ-CP (phân định thẩm quyền của chính quyền địa phương 02 cấp trong lĩnh vực đất
-- đai) and of the Ministry's list of procedures, Decision 2304/QĐ-BNNMT (2025); secured
-- transactions keep Decree 99/2022/NĐ-CP (registration on the day received; after 15:00,
-- the next working day; up to 3 working days only with a recorded reason).
--
-- Each procedure now says where its times come from (legal_basis), since and until when it
-- is offered (valid_from / valid_to: intake refuses a procedure out of force that day), and,
-- for a same-day procedure (working_days = 0), the cut-off hour after which a dossier is due
-- the next working day, and the longer time it may be given with a recorded reason
-- (extended_days; the dossier keeps the reason, deadline_reason). remote_extra says whether
-- the extra days of remote communes (calendar_setting remote_commune_extra_days, Decree
-- 151/2025: +10) apply: not to the same-day registrations.
--
-- A dossier keeps the working days it was given at intake (statutory_days, 0019): these
-- edits change no dossier received before them.

ALTER TABLE procedure DROP CONSTRAINT procedure_working_days_check;
ALTER TABLE procedure ADD CONSTRAINT procedure_working_days_check
    CHECK (working_days BETWEEN 0 AND 200);
ALTER TABLE procedure
    ADD COLUMN legal_basis   text CHECK (btrim(legal_basis) <> ''),
    ADD COLUMN valid_from    date,
    ADD COLUMN valid_to      date,
    ADD COLUMN cutoff_time   time,
    ADD COLUMN extended_days integer,
    ADD COLUMN remote_extra  boolean NOT NULL DEFAULT true,
    ADD CONSTRAINT procedure_validity_check
        CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to),
    -- a same-day procedure has its cut-off hour; a procedure counted in days has none
    ADD CONSTRAINT procedure_cutoff_check CHECK ((working_days = 0) = (cutoff_time IS NOT NULL)),
    ADD CONSTRAINT procedure_extended_days_check
        CHECK (extended_days IS NULL OR extended_days BETWEEN working_days + 1 AND 200);

ALTER TABLE dossier DROP CONSTRAINT dossier_statutory_days_check;
ALTER TABLE dossier ADD CONSTRAINT dossier_statutory_days_check
    CHECK (statutory_days BETWEEN 0 AND 400);
-- Why this dossier was given the procedure's extended time (Decree 99/2022 art. 18.2).
ALTER TABLE dossier ADD COLUMN deadline_reason text CHECK (btrim(deadline_reason) <> '');

-- The times of Decree 151/2025/NĐ-CP and Decision 2304/QĐ-BNNMT.
UPDATE procedure SET working_days = 8, valid_from = '2025-07-01',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): đăng ký biến động do chuyển nhượng, thừa kế, tặng cho quyền sử dụng đất, không quá 08 ngày làm việc'
 WHERE code IN ('CHUYEN-NHUONG', 'THUA-KE', 'TANG-CHO');
UPDATE procedure SET working_days = 12, valid_from = '2025-07-01',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): tách thửa, hợp thửa đất, không quá 12 ngày làm việc'
 WHERE code IN ('TACH-THUA', 'HOP-THUA');
UPDATE procedure SET valid_from = '2025-07-01',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): tách thửa (12 ngày làm việc) và đăng ký biến động do chuyển nhượng (08 ngày làm việc) trong một hồ sơ, thời gian cộng lại'
 WHERE code = 'CHUYEN-NHUONG-MOT-PHAN';
UPDATE procedure SET working_days = 0, cutoff_time = '15:00', extended_days = 3,
       remote_extra = false, valid_from = '2025-07-01',
       legal_basis = 'Nghị định 99/2022/NĐ-CP, Điều 18; Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): giải quyết trong ngày nhận hồ sơ hợp lệ; nhận sau 15 giờ thì trong ngày làm việc tiếp theo; kéo dài không quá 03 ngày làm việc khi có lý do'
 WHERE code IN ('THE-CHAP', 'XOA-THE-CHAP');
-- The 2 days of the extension (data to be taken from paper records) are the former
-- catalogue's time for the extract: check them against the province's procedure list.
UPDATE procedure SET working_days = 0, cutoff_time = '15:00', extended_days = 2,
       remote_extra = false, valid_from = '2025-07-01',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): cung cấp thông tin, dữ liệu đất đai trong ngày khi dữ liệu có trong cơ sở dữ liệu; nhận sau giờ giới hạn hoặc dữ liệu phải trích xuất từ hồ sơ giấy thì trong ngày làm việc tiếp theo hoặc thời hạn kéo dài'
 WHERE code = 'TRICH-LUC';
-- First registration for households and individuals is decided by the commune's People's
-- Committee since 2025-07-01 (Decree 151/2025); the land registration office keeps it for
-- organisations (DK-LAN-DAU-TC) and registration without a certificate (DK-LAN-DAU-DK).
UPDATE procedure SET level = 'commune', working_days = 20, valid_from = '2025-07-01',
       name = 'Đăng ký đất đai, cấp Giấy chứng nhận lần đầu cho hộ gia đình, cá nhân',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): đăng ký, cấp Giấy chứng nhận lần đầu không quá 20 ngày làm việc; thẩm quyền Chủ tịch UBND cấp xã; xã miền núi, hải đảo, vùng khó khăn thêm 10 ngày'
 WHERE code = 'DK-LAN-DAU';
UPDATE procedure SET level = 'commune', working_days = 15, valid_from = '2025-07-01',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): chuyển mục đích sử dụng đất của hộ gia đình, cá nhân, thẩm quyền UBND cấp xã'
 WHERE code = 'CHUYEN-MUC-DICH';
-- Cấp đổi and cấp lại are separate procedures: exchange 5 working days; re-issue after a
-- loss 10, the 15 days of posting the loss at the commune not counted (the dossier is
-- paused for them).
UPDATE procedure SET name = 'Cấp đổi Giấy chứng nhận', working_days = 5,
       operation = 'certificate_exchange', operations = '{certificate_exchange}',
       change_operation = NULL, valid_from = '2025-07-01',
       documents = '["Đơn đề nghị cấp đổi Giấy chứng nhận (Mẫu số 11/ĐK)", "Giấy chứng nhận bản gốc"]',
       legal_basis = 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): cấp đổi Giấy chứng nhận không quá 05 ngày làm việc'
 WHERE code = 'CAP-DOI';
INSERT INTO procedure (code, name, level, working_days, steps, documents, fee_vnd, tax_step,
                       change_operation, operation, operations, blocked_by_injunction,
                       legal_basis, valid_from) VALUES
('CAP-LAI', 'Cấp lại Giấy chứng nhận do bị mất', 'province', 10,
 '["reception", "loss_posting", "approval", "certificate_printing"]',
 '["Đơn đề nghị cấp lại Giấy chứng nhận", "Giấy xác nhận việc niêm yết thông báo mất Giấy chứng nhận của UBND cấp xã"]',
 50000, false, 'certificate_reissue', 'certificate_reissue', '{certificate_reissue}', false,
 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): cấp lại Giấy chứng nhận do bị mất không quá 10 ngày làm việc, không kể 15 ngày niêm yết thông báo mất tại UBND cấp xã',
 '2025-07-01'),
('DK-LAN-DAU-TC', 'Đăng ký đất đai, cấp Giấy chứng nhận lần đầu cho tổ chức', 'province', 20,
 '["reception", "field_check", "tax_notice", "approval", "certificate_printing"]',
 '["Đơn đăng ký đất đai, tài sản gắn liền với đất (Mẫu số 04/ĐK)", "Giấy tờ về quyền sử dụng đất", "Quyết định thành lập hoặc giấy chứng nhận đăng ký doanh nghiệp"]',
 100000, true, 'first_registration', 'certificate_issue', '{certificate_issue}', false,
 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): đăng ký, cấp Giấy chứng nhận lần đầu không quá 20 ngày làm việc',
 '2025-07-01'),
('DK-LAN-DAU-DK', 'Đăng ký đất đai lần đầu (không đề nghị cấp Giấy chứng nhận)', 'province', 17,
 '["reception", "field_check", "approval"]',
 '["Đơn đăng ký đất đai, tài sản gắn liền với đất (Mẫu số 04/ĐK)"]',
 0, false, NULL, NULL, '{}', false,
 'Nghị định 151/2025/NĐ-CP; Quyết định 2304/QĐ-BNNMT (2025): đăng ký đất đai lần đầu không quá 17 ngày làm việc',
 '2025-07-01');
