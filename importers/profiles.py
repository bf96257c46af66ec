"""Field-mapping profiles: which source column holds the commune, sheet, parcel number,
land-use code, areas, holder and certificate. Profiles are data files in
``importers/profiles/*.toml``; ``auto`` picks the one that matches the columns best and
says why."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from cadastre.access import PERSONAL_SOURCE_FIELDS
from cadastre.errors import UnknownProfile
from gis.crs import fold

#: Canonical fields a profile can map, in report order.
FIELDS: tuple[str, ...] = (
    "commune_code", "sheet_number", "parcel_number", "land_use", "area", "area_legal",
    "address", "owner_name", "owner_kind", "owner_id", "owner_birth_year", "owner_address",
    "certificate_serial", "registry_number", "certificate_date",
)


def normalise_column(name: str) -> str:
    """Column names compare without case, accents, spaces, dots or underscores."""
    return re.sub(r"[^a-z0-9]", "", fold(name))


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    fields: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    owner_kinds: dict[str, str] = field(default_factory=dict)
    layer_pattern: str | None = None
    derive_column: str | None = None
    derive_pattern: str | None = None

    def layer_matches(self, layer: str) -> bool:
        return self.layer_pattern is None or re.search(self.layer_pattern, layer) is not None

    def resolve(self, columns: list[str]) -> dict[str, str]:
        """canonical field -> source column, for the columns present."""
        by_norm = {normalise_column(c): c for c in columns}
        mapping: dict[str, str] = {}
        for canonical, aliases in self.fields.items():
            for alias in aliases:
                found = by_norm.get(normalise_column(alias))
                if found is not None:
                    mapping[canonical] = found
                    break
        if self.derive_column and self.derive_pattern:
            column = by_norm.get(normalise_column(self.derive_column))
            if column is not None:
                for group in re.compile(self.derive_pattern).groupindex:
                    if group in FIELDS:
                        mapping.setdefault(group, f"{column}~{group}")
        return mapping

    def personal_columns(self, columns: list[str]) -> dict[str, str]:
        """source column -> personal field, for every column spelled like one of the
        profile's spellings of a personal field (not only the one chosen for the mapping: a
        layer with both CCCD and CMND holds two ID numbers)."""
        spellings = {normalise_column(alias): canonical
                     for canonical in PERSONAL_SOURCE_FIELDS
                     for alias in self.fields.get(canonical, ())}
        return {c: spellings[normalise_column(c)] for c in columns
                if normalise_column(c) in spellings}

    def missing_required(
        self, mapping: dict[str, str], provided: frozenset[str] = frozenset()
    ) -> list[str]:
        return [f for f in self.required if f not in mapping and f not in provided]


def _load(text: str, source: str) -> Profile:
    data = tomllib.loads(text)
    unknown = set(data.get("fields", {})) - set(FIELDS)
    if unknown:
        raise UnknownProfile(f"profile {source}: unknown fields {sorted(unknown)}")
    derive = data.get("derive", {})
    return Profile(
        name=str(data["name"]),
        title=str(data.get("title", data["name"])),
        fields={k: tuple(v) for k, v in data.get("fields", {}).items()},
        required=tuple(data.get("required", ("sheet_number", "parcel_number"))),
        owner_kinds={normalise_column(k): str(v) for k, v in data.get("owner_kinds", {}).items()},
        layer_pattern=data.get("layer"),
        derive_column=derive.get("column"),
        derive_pattern=derive.get("pattern"),
    )


def available_profiles() -> dict[str, Profile]:
    folder = resources.files("importers").joinpath("profiles")
    profiles = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = _load(entry.read_text(encoding="utf-8"), entry.name)
            profiles[profile.name] = profile
    return profiles


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    profile: Profile
    mapping: dict[str, str]
    reason: str


def choose_profile(
    name: str, layer: str, columns: list[str], *, provided: frozenset[str] = frozenset()
) -> ProfileChoice:
    """The named profile, or with ``auto`` the profile matching most columns (its required
    fields all present). Raises UnknownProfile with the choices when none fits."""
    profiles = available_profiles()
    if name != "auto":
        if name not in profiles:
            raise UnknownProfile(
                f"unknown profile {name!r}",
                hint="available: auto, " + ", ".join(sorted(profiles)),
            )
        profile = profiles[name]
        mapping = profile.resolve(columns)
        missing = profile.missing_required(mapping, provided)
        if missing:
            raise UnknownProfile(
                f"profile {name!r} does not fit layer {layer}: no column for "
                f"{', '.join(missing)} (columns: {', '.join(columns)})"
            )
        return ProfileChoice(profile, mapping, f"profile {name!r} given")
    scored = []
    for profile in profiles.values():
        if not profile.layer_matches(layer):
            continue
        mapping = profile.resolve(columns)
        if profile.missing_required(mapping, provided):
            continue
        scored.append((len(mapping), profile.name, profile, mapping))
    if not scored:
        raise UnknownProfile(
            f"no profile recognises layer {layer} (columns: {', '.join(columns) or 'none'})",
            hint="pass --profile NAME, or add a profile to importers/profiles/; at least the "
            "sheet number and parcel number columns must be recognisable",
        )
    scored.sort(key=lambda s: (-s[0], s[1]))
    count, _, profile, mapping = scored[0]
    pairs = ", ".join(f"{src}→{dst}" for dst, src in mapping.items())
    others = "; ".join(f"{n} matched {c}" for c, n, _, _ in scored[1:]) or "no other fits"
    reason = f"auto: {profile.name} matched {count} of {len(FIELDS)} fields ({pairs}); {others}"
    return ProfileChoice(profile, mapping, reason)


def party_kinds(codes: pd.Series, table: dict[str, str]) -> pd.Series:
    """Owner-kind codes as written in a file -> LADM party kind (each distinct code once)."""
    factor, uniques = pd.factorize(codes.astype(object).where(codes.notna(), None))
    kinds = np.array([table.get(normalise_column(str(u))) for u in uniques] + [None],
                     dtype=object)
    return pd.Series(kinds[factor], index=codes.index, dtype=object)
