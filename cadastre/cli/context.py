"""Process-wide CLI state (flags of the root command) and helpers shared by commands."""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from cadastre.db import create_engine
from cadastre.settings import Settings


@dataclass
class _State:
    debug: bool = False


state = _State()


def load_settings() -> Settings:
    return Settings()


def cli_engine(settings: Settings | None = None) -> Engine:
    """The engine of a command that writes: its sessions name the OS user and the command,
    which the audit triggers record as the actor."""
    command = " ".join(["cadastre", *[a for a in sys.argv[1:3] if not a.startswith("-")]])
    return create_engine(settings or load_settings(), session_settings={
        "cadastre.actor": f"os:{getpass.getuser()}", "cadastre.role": "cli",
        "cadastre.endpoint": command[:80]})
