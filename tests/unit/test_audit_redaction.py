"""The audit view's redaction of row images, by role (no database)."""

from __future__ import annotations

from cadastre.access import Role
from cadastre.audit.service import _redact, _redact_row_key


def test_a_quarantined_row_without_its_personal_columns_is_shown_only_to_full_roles():
    legacy = {"id": 1, "attributes": {"SoHieuGiayTo": "001080012345", "SoThua": 4}}
    assert _redact("import_quarantine", legacy, Role.SUPERVISOR)["attributes"] == {
        "personal_data": "withheld"}
    assert _redact("import_quarantine", legacy, Role.ADMIN) == legacy


def test_canonical_personal_keys_of_a_register_row_are_redacted_too():
    row = {"attributes": {"owner_id": "001080012345", "birth_date": "1980-01-02",
                          "contact_phone": "0912345678", "contact_email": "a@b.vn",
                          "_personal": {}, "parcel_number": 7}}
    seen = _redact("import_quarantine", row, Role.SUPERVISOR)["attributes"]
    assert seen["owner_id"] == "•••••••••345"
    assert seen["birth_date"] == seen["contact_phone"] == seen["contact_email"] == "withheld"
    assert seen["parcel_number"] == 7


def test_restriction_amounts_are_withheld_from_supervisors():
    row = {"amount": 10_900_000_000, "reference": "77/2026/HĐTC", "kind": "mortgage"}
    assert _redact("restriction", row, Role.SUPERVISOR) == {**row, "amount": "withheld"}
    assert _redact("restriction", row, Role.ADMIN) == row


def test_an_id_number_searched_for_is_masked_in_the_record_of_the_search():
    assert _redact_row_key({"q": "001080012345"}, Role.SUPERVISOR) == {"q": "•••••••••345"}
    assert _redact_row_key({"q": "001080012345"}, Role.ADMIN) == {"q": "001080012345"}
    assert _redact_row_key({"q": "Nguyễn Văn An"}, Role.SUPERVISOR) == {"q": "Nguyễn Văn An"}
