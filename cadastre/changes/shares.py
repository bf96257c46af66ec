"""What a transfer, an inheritance or a gift moves, worked out on exact fractions: which
right versions end and which begin, before anything is written.

A move names a kind of right (the land-use right, the ownership of the house, of other
assets attached to the land) and its new holders with shares adding up to 1 *of what moves*.
What moves is the whole right, or the share of the sellers only: a co-holder selling his
half moves that half, the other co-holders keep theirs. A receiver who already holds a share
of that right ends up with one right of the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from cadastre.errors import InvalidInput

#: The rights a transfer can move: the land-use right and the ownership of the assets
#: attached to the land (house; other constructions, perennial trees).
TRANSFERABLE = ("land_use", "house_ownership", "asset_ownership")
ASSET_KINDS = ("house_ownership", "asset_ownership")
#: How the register writes a kind of right in Vietnamese (notes on a certificate).
RIGHT_NAMES_VI = {"land_use": "quyền sử dụng đất", "house_ownership": "quyền sở hữu nhà ở",
                  "asset_ownership": "quyền sở hữu tài sản khác gắn liền với đất"}
#: Shares are stored as two PostgreSQL integers.
_INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Holding:
    """One current right version of the parcel."""

    version_id: int
    kind: str
    party_id: int
    share: Fraction
    term_end: object = None
    certificate_id: int | None = None


@dataclass(frozen=True, slots=True)
class Move:
    """``kind`` moves to ``holders`` (party id, share of what moves); from ``sellers`` only
    (None: from every holder of the right)."""

    kind: str
    holders: tuple[tuple[int, Fraction], ...]
    sellers: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class NewHolding:
    kind: str
    party_id: int
    share: Fraction
    term_end: object
    #: The certificate the moved right was recorded on (None: none).
    certificate_id: int | None


@dataclass(frozen=True, slots=True)
class MovePlan:
    ended: tuple[Holding, ...]
    begun: tuple[NewHolding, ...]
    #: What moved of each kind (1: the whole right).
    moved: tuple[tuple[str, Fraction], ...]
    #: Every party holding a right before the change holds none after it.
    whole: bool


def _name(kind: str) -> str:
    return kind.replace("_", " ")


def plan_moves(parcel_id: int, current: Sequence[Holding], moves: Sequence[Move]) -> MovePlan:
    """The versions to end and to begin; InvalidInput for a kind the parcel does not have,
    a seller who holds none of it, or shares that cannot be stored."""
    kinds = [m.kind for m in moves]
    if len(set(kinds)) != len(kinds):
        raise InvalidInput("each kind of right is moved once: give all its new holders in "
                           "one entry")
    ended: list[Holding] = []
    begun: list[NewHolding] = []
    moved_of: list[tuple[str, Fraction]] = []
    for move in moves:
        if move.kind not in TRANSFERABLE:
            raise InvalidInput(f"a transfer moves {', '.join(TRANSFERABLE)}, not {move.kind!r}")
        rights = [h for h in current if h.kind == move.kind]
        if not rights:
            raise InvalidInput(f"parcel {parcel_id} has no current {_name(move.kind)} right "
                               "to transfer")
        selling = rights if move.sellers is None else [
            h for h in rights if h.party_id in move.sellers]
        if not selling:
            sellers = ", ".join(f"#{p}" for p in sorted(move.sellers or ()))
            raise InvalidInput(f"party {sellers} holds no {_name(move.kind)} right on parcel "
                               f"{parcel_id}")
        moved = sum((h.share for h in selling), Fraction(0))
        staying = [h for h in rights if h not in selling]
        received: dict[int, Fraction] = {}
        for party, share in move.holders:
            received[party] = received.get(party, Fraction(0)) + share * moved
        for kept in staying:  # a receiver who holds a share already holds one right after
            if kept.party_id in received:
                received[kept.party_id] += kept.share
                ended.append(kept)
        ended.extend(selling)
        template = selling[0]
        for party, share in received.items():
            if share.numerator > _INT_MAX or share.denominator > _INT_MAX:
                raise InvalidInput(f"the share {share} cannot be recorded: simplify the shares")
            begun.append(NewHolding(move.kind, party, share, template.term_end,
                                    template.certificate_id))
        moved_of.append((move.kind, moved))
    before = {h.party_id for h in current}
    after = {h.party_id for h in current if h not in ended} | {n.party_id for n in begun}
    return MovePlan(tuple(ended), tuple(begun), tuple(moved_of),
                    whole=bool(before) and before.isdisjoint(after))


def legacy_moves(current: Sequence[Holding], holders: tuple[tuple[int, Fraction], ...],
                 from_party_id: int | None) -> list[Move]:
    """The moves of a transfer given as one list of ``holders`` (the body of old): the
    land-use right, and every right to assets attached to the land that its sellers hold,
    move together to these holders."""
    sellers = (frozenset({from_party_id}) if from_party_id is not None else
               frozenset(h.party_id for h in current if h.kind == "land_use"))
    moves = [Move("land_use", holders,
                  None if from_party_id is None else sellers)]
    for kind in ASSET_KINDS:
        if any(h.kind == kind and h.party_id in sellers for h in current):
            moves.append(Move(kind, holders, sellers))
    return moves


def describe(plan: MovePlan) -> str:
    """What moved, in Vietnamese, for a note on the certificate: "quyền sử dụng đất (phần
    1/2), quyền sở hữu nhà ở"."""
    return ", ".join(RIGHT_NAMES_VI[kind] + ("" if moved == 1 else f" (phần {moved})")
                     for kind, moved in plan.moved)
