"""The largest numbers a request may carry, from the types of the columns they end up in:
a value the database cannot hold is refused with 422 by validation (and shown in the
OpenAPI document), never a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

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
