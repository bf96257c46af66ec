"""The import report: every outcome counted, as JSON and as a readable summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class LayerReport:
    label: str
    driver: str
    features: int
    profile: str = ""
    profile_reason: str = ""
    encoding: str = ""
    encoding_confidence: float = 0.0
    encoding_reason: str = ""
    crs: str = ""
    skipped_non_polygon: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    repaired: int = 0
    #: The land-use codes translated to today's list (importers.land_use_codes): per kind
    #: ("superseded", "legacy") counts of "BHK → HNK"; "unmapped": counts per code as written.
    land_use: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class ImportReport:
    source: str
    kind: str
    sha256: str = ""
    bytes: int = 0
    status: str = "pending"  # committed | dry-run | already-imported | rejected
    import_id: int | None = None
    storage_srid: int | None = None
    layers: list[LayerReport] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    previous_import: dict[str, Any] | None = None
    #: Parcels of the replaced sheets that the import left as they are, and why
    #: (importers.editions): parcel_id, identity, reason_code, restrictions (kinds),
    #: in_new_edition, feature_reason_code.
    kept: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rejected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for layer in self.layers:
            total.update(layer.rejected)
        return total

    def to_json(self) -> dict[str, Any]:
        # (dataclasses.asdict would turn a Counter's items into keys)
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["layers"] = [
            {**{f.name: getattr(layer, f.name) for f in fields(layer)},
             "rejected": dict(layer.rejected)}
            for layer in self.layers
        ]
        data["rejected"] = dict(self.rejected)
        data["counts"] = dict(self.counts)
        return data

    def summary(self) -> list[str]:
        lines = [f"{self.source}: {self.status.upper()}"
                 + (f" as import #{self.import_id}" if self.import_id else "")]
        if self.previous_import:
            prev = self.previous_import
            lines.append(f"  already imported as #{prev['id']} on {prev['finished_at']} "
                         "(same sha256); use --force to import it again")
        for layer in self.layers:
            lines.append(f"  {layer.label} [{layer.driver}] {layer.features:,} features")
            lines.append(f"    profile: {layer.profile_reason}")
            lines.append(f"    encoding: {layer.encoding_reason}")
            lines.append(f"    crs: {layer.crs}")
            if layer.skipped_non_polygon:
                lines.append(f"    skipped {layer.skipped_non_polygon:,} drawing entities that "
                             "are not parcel polygons (lines, text)")
            rejected = ", ".join(f"{k} {v:,}" for k, v in sorted(layer.rejected.items()))
            rejected_count = sum(layer.rejected.values())
            lines.append(f"    accepted {layer.accepted:,}; rejected {rejected_count:,}"
                         + (f" ({rejected})" if rejected else "")
                         + (f"; repaired {layer.repaired:,}" if layer.repaired else ""))
            lines.extend(_land_use_lines(layer.land_use))
        if self.counts:
            lines.append("  " + ", ".join(f"{k.replace('_', ' ')} {v:,}"
                                          for k, v in self.counts.items()))
        lines.extend(self._kept_lines())
        lines.extend(f"  warning: {w}" for w in self.warnings)
        if self.timings:
            lines.append("  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()))
        return lines

    def _kept_lines(self, shown: int = 20) -> list[str]:
        if not self.kept:
            return []
        why = Counter(k["reason_code"] for k in self.kept)
        n = len(self.kept)
        lines = [f"  kept {n:,} parcel{'s' if n > 1 else ''} as {'they are' if n > 1 else 'it is'}"
                 " in the register ("
                 + ", ".join(f"{code} {count:,}" for code, count in why.most_common()) + "):"]
        for k in self.kept[:shown]:
            restrictions = f" ({', '.join(k['restrictions'])})" if k["restrictions"] else ""
            feature = (f"its feature quarantined ({k['feature_reason_code']})"
                       if k["in_new_edition"] else "not in the new edition")
            lines.append(f"    #{k['parcel_id']} {k['identity']}: {k['reason_code']}"
                         f"{restrictions}, {feature}")
        if n > shown:
            lines.append(f"    … and {n - shown:,} more (the JSON report lists them all)")
        return lines

def _land_use_lines(land_use: dict[str, dict[str, int]], shown: int = 12) -> list[str]:
    """``land-use codes ended, now their successors: BHK → HNK 12, NHK → HNK 3``."""
    lines = []
    for kind, label in (("superseded", "land-use codes ended, now their successors"),
                        ("legacy", "legacy land-use codes, now today's"),
                        ("unmapped", "land-use codes not mapped (see each feature's reason)")):
        counts = land_use.get(kind)
        if not counts:
            continue
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        more = f", … {len(items) - shown:,} more" if len(items) > shown else ""
        lines.append(f"    {label}: "
                     + ", ".join(f"{code} {n:,}" for code, n in items[:shown]) + more)
    return lines
