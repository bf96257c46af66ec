"""What a new edition of a map sheet leaves as it is.

An import whose features fall on sheets already in the register replaces those sheets (a
new edition, ``load.load_parcels``). Some of their current parcels stay as they are:

* a parcel under an active injunction (ngăn chặn) or mortgage (thế chấp) is neither
  reshaped nor retired by a survey: its feature in the edition is quarantined
  (``parcel-enjoined``, ``parcel-mortgaged``; the restriction's kind, never its reference
  or counterparty: analysts read the quarantine), and it stays when the edition does not
  contain it at all;
* a parcel whose feature in the edition is quarantined for any other reason keeps its
  previous version, instead of vanishing until the feature is fixed;
* a feature that would overlap a parcel that stays is quarantined in turn
  (``overlaps-kept-parcel``) and its own parcel stays, and so on until nothing changes: the
  register never holds two overlapping current parcels.

A sheet all of whose features end up quarantined is not replaced at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from importers import load

_KEY = ["commune_code", "sheet_number", "parcel_number"]
_WORDS = {"injunction": "an injunction", "mortgage": "a mortgage"}


def _keys(frame: pd.DataFrame) -> pd.MultiIndex:
    """commune + sheet + number of each row (number -1 where it is missing)."""
    number = pd.to_numeric(frame["parcel_number"], errors="coerce")
    return pd.MultiIndex.from_arrays([
        frame["commune_code"].astype(str).to_numpy(dtype=object),
        frame["sheet_number"].astype(str).to_numpy(dtype=object),
        number.fillna(-1).to_numpy(dtype=np.int64)])


def _sheet_pairs(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame["commune_code"].astype(str).to_numpy(dtype=object),
                                      frame["sheet_number"].astype(str).to_numpy(dtype=object)])


def restriction_code(kinds: tuple[str, ...]) -> str:
    """The quarantine code of a parcel kept for its restrictions (an injunction first)."""
    return next(code for kind, code in load.KEEPING_RESTRICTIONS.items() if kind in kinds)


def under(kinds: tuple[str, ...]) -> str:
    """"under an injunction and a mortgage": the kinds, in words, nothing more."""
    return "under " + " and ".join(_WORDS[k] for k in load.KEEPING_RESTRICTIONS if k in kinds)


@dataclass
class Edition:
    """The current parcels of the sheets an import replaces (``load.sheet_parcels``, locked)
    and which of them stay."""

    old: pd.DataFrame
    #: per row of ``old``: it stays current
    staying: np.ndarray
    #: quarantine code of the feature that made a parcel stay, by parcel id
    feature_codes: dict[int, str] = field(default_factory=dict)
    #: staying parcels of sheets the import no longer replaces (none of their features
    #: accepted): plain current parcels again
    not_replaced: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, conn: Connection, replaced: list[tuple[str, str]]) -> Edition:
        old = load.sheet_parcels(conn, replaced)
        restricted = old["restrictions"].map(len).to_numpy(dtype=np.int64) > 0
        return cls(old, restricted)

    @property
    def staying_ids(self) -> list[int]:
        return [int(p) for p in self.old["parcel_id"].to_numpy()[self.staying]]

    def protect(self, keys: pd.DataFrame, codes: np.ndarray, reasons: np.ndarray) -> None:
        """Quarantine the accepted features of the parcels kept for their restrictions."""
        restricted = self.old[self.old["restrictions"].map(len) > 0]
        if restricted.empty:
            return
        position = _keys(restricted).get_indexer(_keys(keys))
        rows = np.flatnonzero((position >= 0) & (codes == None))  # noqa: E711
        for row in rows:
            parcel = restricted.iloc[position[row]]
            kinds = parcel["restrictions"]
            codes[row] = restriction_code(kinds)
            reasons[row] = (
                f"parcel #{parcel['parcel_id']} ({_identity(parcel)}) is {under(kinds)}: it "
                "stays as it is in the register and this feature was not loaded; import the "
                "sheet again once the restriction ends")

    def more(self, keys: pd.DataFrame, codes: np.ndarray) -> list[int]:
        """The parcels that now stay too and did not before: those whose feature in the
        import is quarantined, and every parcel of a sheet the import no longer replaces
        (no feature of it accepted: ``not_replaced``). They are added to ``staying``."""
        if self.old.empty:
            return []
        rejected = codes != None  # noqa: E711
        live = _sheet_pairs(keys[~rejected]).unique()
        dropped = ~_sheet_pairs(self.old).isin(live)
        rejected_keys = _keys(keys[rejected])
        feature = _keys(self.old).get_indexer(rejected_keys.unique())
        quarantined = np.zeros(len(self.old), dtype=bool)
        quarantined[feature[feature >= 0]] = True
        new = (dropped | quarantined) & ~self.staying
        if not new.any():
            return []
        self.staying |= new
        ids = self.old["parcel_id"].to_numpy()
        self.not_replaced.update(int(p) for p in ids[new & dropped])
        first = pd.Series(codes[rejected], index=rejected_keys)
        first = first[~first.index.duplicated()]
        old_keys = _keys(self.old)
        for i in np.flatnonzero(new & quarantined):
            self.feature_codes[int(ids[i])] = str(first[old_keys[i]])
        return [int(p) for p in ids[new]]

    def why(self, parcel_id: int) -> str:
        """Why a parcel stays, for the reason of a feature overlapping it."""
        row = self.old[self.old["parcel_id"] == parcel_id].iloc[0]
        if row["restrictions"]:
            return f"stays as it is in the register, {under(row['restrictions'])}"
        if parcel_id in self.not_replaced:
            return "its sheet is not replaced: no feature of it was accepted"
        return ("stays as it is in the register, its feature in this import quarantined "
                f"({self.feature_codes.get(parcel_id)})")

    def kept(self, keys: pd.DataFrame, codes: np.ndarray) -> list[dict[str, Any]]:
        """The report's list of the parcels the import leaves as they are on the sheets it
        replaces (and those kept for their restrictions on any sheet of the import), with
        why: the restriction's code, or the quarantine code of the parcel's feature."""
        if self.old.empty:
            return []
        accepted = codes == None  # noqa: E711
        live = _sheet_pairs(keys[accepted]).unique()
        restricted = self.old["restrictions"].map(len).to_numpy(dtype=np.int64) > 0
        shown = self.staying & (_sheet_pairs(self.old).isin(live) | restricted)
        present = pd.Series(codes, index=_keys(keys))
        present = present[~present.index.duplicated()]
        out = []
        for i in np.flatnonzero(shown):
            parcel = self.old.iloc[i]
            key = _keys(self.old.iloc[[i]])[0]
            feature = present[key] if key in present.index else None
            kinds = tuple(parcel["restrictions"])
            out.append({
                "parcel_id": int(parcel["parcel_id"]),
                "identity": _identity(parcel),
                "reason_code": restriction_code(kinds) if kinds else str(feature),
                "restrictions": list(kinds),
                "in_new_edition": key in present.index,
                "feature_reason_code": None if feature is None else str(feature),
            })
        return out


def _identity(parcel: pd.Series) -> str:
    return f"{parcel['commune_code']}/{parcel['sheet_number']}/{parcel['parcel_number']}"
