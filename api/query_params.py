"""Query parameters an operation does not define are refused with 400, never ignored: a
client that sends ``crs`` to an operation without one, or misspells ``bbox-crs``, would
otherwise get an answer that silently means something else than it asked (OGC API -
Features Part 1, /req/core/query-param-unknown, says the same of every operation).

An operation's parameters are the query parameters FastAPI reads for it (its signature and
its dependencies') and those its ``openapi_extra`` describes (routes that parse their own
query string, like OGC items): what /openapi.json lists for it."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from cadastre.errors import InvalidParameter

_DEFINED: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def defined_parameters(route: Any) -> frozenset[str]:
    """The query parameter names the route defines (computed once per route)."""
    found = _DEFINED.get(id(route))
    if found is None:
        names = _query_names(route.dependant)
        extra = (getattr(route, "openapi_extra", None) or {}).get("parameters", [])
        names |= {p["name"] for p in extra if p.get("in") == "query"}
        found = _DEFINED[id(route)] = frozenset(names)
    return found


async def refuse_undefined_parameters(request: Request) -> None:
    route = request.scope.get("route")
    if route is None or not request.scope.get("query_string"):
        return
    defined = defined_parameters(route)
    for name in request.query_params:
        if name not in defined:
            raise InvalidParameter(
                f"unknown parameter {name[:40]!r}",
                hint=f"this operation takes {', '.join(sorted(defined))}" if defined
                else "this operation takes no query parameters")


#: Add to a router's or a route's ``dependencies``.
DEFINED_PARAMETERS_ONLY = Depends(refuse_undefined_parameters)
