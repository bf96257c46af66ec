"""The values a request may carry, from the types of the columns they end up in: a number,
text or instant the database cannot hold is refused with 422 by validation (and shown in
the OpenAPI document), never a database error. The checks themselves are
cadastre.inputs', shared with the CLI and the OGC parameters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, StringConstraints

from cadastre import inputs
from cadastre.errors import InvalidInput

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1

#: A row id (bigint identity columns: parcels, parties, audit entries), in a body or query.
RowId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
#: A row id in the path.
PathId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
#: A parcel number on its sheet (số thửa, an integer column).
PARCEL_NUMBER_MAX = INTEGER_MAX
#: Amounts in đồng: mortgages are numeric(18, 0), procedure fees numeric(14, 0).
AMOUNT_MAX = 10**18 - 1
FEE_MAX = 10**14 - 1

#: Digits in a pattern: ASCII only. (``\d`` in pydantic's patterns, as in Python's, also
#: matches '٣', '１' and every other Unicode digit, which no phone, ID or share is written in.)
DIGIT = "[0-9]"

#: Text a caller must give: surrounding blanks dropped, then at least one character left
#: (an empty or blank name, subject or code is refused with 422, never stored or looked up).
NonBlank = StringConstraints(strip_whitespace=True, min_length=1)


def _instant(value: datetime) -> datetime:
    try:
        return inputs.instant(value, "the date-time")
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


#: A date-time parameter or field, converted to UTC; one whose UTC value PostgreSQL or
#: Python cannot hold (9999-12-31T23:59:59-23:59) is a 422 from validation.
Instant = Annotated[datetime, AfterValidator(_instant)]
