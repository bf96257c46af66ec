"""If-Match on every write to a parcel or a dossier: which state the client saw; and
If-None-Match on the reads that answer 304 when the client has the current body.

A parcel file's ETag is ``"<parcel id>-<last change id>.<hash>"`` (the change id is always a
number: every parcel version is begun by a change); a dossier's is ``"<code>-<version>"``; a
procedure's ``"<code>-<hash>"``. An operation on several parcels (merge, boundary correction)
or on a dossier and its parcel (an approval that applies the change) takes one ETag per
resource in one If-Match list (``If-Match: "5-12.ab…", "6-14.cd…"``), and every one of them
must be current: the ETags name different resources, so "any of them matches" (RFC 9110's
rule for one resource) would say nothing.

No If-Match, ``*`` (any state at all) or a list without one resource's ETag: 428. An ETag
that is not one of this resource (malformed, weak, of another parcel, twice the same parcel):
412. A well-formed ETag of an older state is refused in the write's own transaction, under
the row lock, by the service (409 ``stale-parcel`` naming the change in between, 412
``stale-dossier``). A party's ETag is ``"party-<id>-<version>"`` (its row_version, moved by
every edit, by a change of its members and by a merge); an older one is 412 ``stale-party``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from api.problems import PreconditionFailed, PreconditionRequired

#: One entity tag of a list (RFC 9110 section 8.8.3): optional W/, then a quoted string.
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_PARCEL = re.compile(r"(\d{1,19})-(\d{1,19})\.[0-9a-f]{1,64}")


def client_has(if_none_match: str | None, tag: str) -> bool:
    """True when an If-None-Match list names ``tag`` exactly: the client's copy is current
    (HTTP 304)."""
    return tag in [t.strip() for t in (if_none_match or "").split(",")]


def entity_tags(if_match: str | None, *, what: str, hint: str) -> list[str]:
    """The opaque tags of an If-Match list, strong ones only. 428 without any; 412 for a
    header that is not a list of entity tags or holds a weak one (If-Match compares
    strongly: a weak tag never matches)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(f"send If-Match with the ETag of {what} you read",
                                   hint=hint)
    text = if_match.strip()
    if text == "*":
        raise PreconditionRequired(
            f"If-Match: * does not say which state of {what} you read; send its ETag",
            hint=hint)
    tags, position = [], 0
    while position < len(text):
        match = _TAG.match(text, position)
        if match is None or match.end() == position:
            raise PreconditionFailed(f"If-Match {if_match!r} is not a list of ETags")
        if match.group(1):
            raise PreconditionFailed(
                f"If-Match {if_match!r} holds a weak ETag: a write needs the strong ETag "
                "the resource was sent with")
        tags.append(match.group(2))
        position = match.end()
    return tags


def parcel_tag(tag: str) -> tuple[int, int] | None:
    """(parcel id, change id) of a parcel file's ETag, or None when it is not one."""
    match = _PARCEL.fullmatch(tag)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def parcel_states(if_match: str | None, parcel_ids: Sequence[int]) -> dict[int, int]:
    """The change each parcel's ETag names, for every parcel of the operation: parcel id
    -> the last change its author saw."""
    wanted = list(dict.fromkeys(parcel_ids))
    what = (f"parcel {wanted[0]}" if len(wanted) == 1
            else f"each of parcels {', '.join(map(str, wanted))}")
    return states_of(entity_tags(if_match, what=what, hint=_hint(wanted)), wanted)


def _hint(parcel_ids: Sequence[int]) -> str:
    return " and ".join(f"GET /api/v1/parcels/{p}" for p in parcel_ids) + (
        ", then send every ETag in one If-Match" if len(parcel_ids) > 1
        else " and use its ETag")


def states_of(tags: Sequence[str], parcel_ids: Sequence[int]) -> dict[int, int]:
    """parcel_states for tags already taken from If-Match (beside a dossier's)."""
    wanted = list(dict.fromkeys(parcel_ids))
    listed = ", ".join(map(str, wanted))
    seen: dict[int, int] = {}
    for tag in tags:
        state = parcel_tag(tag)
        if state is None or state[0] not in wanted:
            raise PreconditionFailed(f'If-Match "{tag}" is not an ETag of parcel {listed}')
        if state[0] in seen:
            raise PreconditionFailed(f"If-Match names parcel {state[0]} twice")
        seen[state[0]] = state[1]
    missing = [p for p in wanted if p not in seen]
    if missing:
        raise PreconditionRequired(
            f"If-Match holds no ETag of parcel {', '.join(map(str, missing))}: the change "
            "needs the ETag of each parcel it changes", hint=_hint(wanted))
    return seen


def parcel_state(if_match: str | None, parcel_id: int) -> int:
    """The last change of the parcel that the author of a one-parcel change saw."""
    return parcel_states(if_match, [parcel_id])[parcel_id]


def dossier_tags(if_match: str | None, code: str) -> tuple[int, list[str]]:
    """The dossier's version named by If-Match, and the list's other tags (the parcels'
    ETags of an approval)."""
    tags = entity_tags(if_match, what=f"dossier {code}", hint=f"GET /api/v1/dossiers/{code}")
    versions, rest = [], []
    for tag in tags:
        prefix, _, version = tag.rpartition("-")
        if prefix == code and version.isdigit() and len(version) <= 9:
            versions.append(int(version))
        else:
            rest.append(tag)
    if not versions:
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of dossier {code}")
    if len(versions) > 1:
        raise PreconditionFailed(f"If-Match names dossier {code} twice")
    return versions[0], rest


def dossier_version(if_match: str | None, code: str) -> int:
    """The dossier's version named by If-Match; no other tag allowed."""
    version, rest = dossier_tags(if_match, code)
    if rest:
        raise PreconditionFailed(f'If-Match "{rest[0]}" is not an ETag of dossier {code}')
    return version


def procedure_tag(if_match: str | None, code: str) -> str:
    """The hash of the procedure's state that the editor saw."""
    tags = entity_tags(if_match, what=f"procedure {code}",
                       hint=f"GET /api/v1/procedures/{code}")
    prefix, _, digest = tags[0].rpartition("-") if len(tags) == 1 else ("", "", "")
    if prefix != code or not re.fullmatch(r"[0-9a-f]{32}", digest):
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of procedure {code}")
    return digest


def party_versions(if_match: str | None, party_ids: Sequence[int]) -> dict[int, int]:
    """The version of each party (``"party-<id>-<version>"``) an If-Match list names, for
    every party of the write (a merge names the duplicate's and the survivor's)."""
    wanted = list(dict.fromkeys(party_ids))
    listed = " and ".join(f"party {p}" for p in wanted)
    tags = entity_tags(if_match, what=listed, hint=" and ".join(
        f"GET /api/v1/parties/{p}" for p in wanted) + " and use the ETag")
    seen: dict[int, int] = {}
    for tag in tags:
        match = re.fullmatch(r"party-(\d{1,19})-(\d{1,9})", tag)
        if match is None or int(match.group(1)) not in wanted:
            raise PreconditionFailed(f'If-Match "{tag}" is not an ETag of {listed}')
        if int(match.group(1)) in seen:
            raise PreconditionFailed(f"If-Match names party {match.group(1)} twice")
        seen[int(match.group(1))] = int(match.group(2))
    missing = [p for p in wanted if p not in seen]
    if missing:
        raise PreconditionRequired(
            f"If-Match holds no ETag of party {', '.join(map(str, missing))}",
            hint=" and ".join(f"GET /api/v1/parties/{p}" for p in missing))
    return seen


def party_version(if_match: str | None, party_id: int) -> int:
    """The version of the party its editor read."""
    return party_versions(if_match, [party_id])[party_id]


def office_tag(if_match: str | None, code: str) -> str:
    """The hash of the office's state that the editor saw."""
    tags = entity_tags(if_match, what=f"office {code}", hint=f"GET /api/v1/offices/{code}")
    prefix, _, digest = tags[0].rpartition("-") if len(tags) == 1 else ("", "", "")
    if prefix != code or not re.fullmatch(r"[0-9a-f]{32}", digest):
        raise PreconditionFailed(f"If-Match {if_match!r} is not an ETag of office {code}")
    return digest
