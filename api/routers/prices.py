"""The province's land price tables (bảng giá đất) and the price that applies to a parcel on a
date (cadastre/land_use/prices.py). Prices are public documents; a parcel's lookup is for
the staff and analysts who read parcels."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.bounds import PathId
from api.deps import read, require
from api.responses import JSONResponse
from cadastre.access import Role
from cadastre.clock import office_today
from cadastre.land_use import prices

router = APIRouter(prefix="/api/v1", tags=["land prices"])
READERS = (Role.COUNTER_CLERK, Role.LAND_OFFICER, Role.SUPERVISOR, Role.ADMIN,
           Role.GIS_ANALYST)
Day = Annotated[date | None, Query(ge=date(1990, 1, 1), le=date(2100, 12, 31),
                                   description="The day (default: today in Việt Nam)")]


@router.get("/land-price-tables", summary="The land price tables loaded, by province")
async def price_tables(request: Request, province: Annotated[str | None, Query(
        pattern=r"^[0-9]{2}$")] = None) -> Response:
    found = await read(request, lambda c: prices.tables(c, province))
    return JSONResponse(found)


@router.get("/parcels/{parcel_id}/land-price", dependencies=[require(*READERS)],
            summary="The prices of the land price table that may apply to a parcel on a day",
            description="The table in force that day for the parcel's province; the prices "
            "for its land-use codes on the road its address names (or its commune's zone), "
            "every position and segment: the office decides which applies from the site.")
async def parcel_price(request: Request, parcel_id: PathId, on: Day = None) -> Response:
    found = await read(request, lambda c: prices.parcel_prices(
        c, parcel_id, on or office_today(c)))
    return JSONResponse(found, headers={"Cache-Control": "no-cache"})
