"""Process-wide CLI state (flags of the root command) and helpers shared by commands."""

from __future__ import annotations

from dataclasses import dataclass

from cadastre.settings import Settings


@dataclass
class _State:
    debug: bool = False


state = _State()


def load_settings() -> Settings:
    return Settings()
