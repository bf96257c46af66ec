"""`cadastre party ...`: the party register from the command line (register, show, find,
edit, merge a duplicate, households' members), each one transaction. The operator's
session is trusted and sees every field; each command that shows people records the read
in the audit log, as the API does."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.engine import Connection

from cadastre.audit.service import Actor, log_personal_read_sync
from cadastre.changes import operations
from cadastre.changes.record import SourceDocument
from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.errors import InvalidInput
from cadastre.parties import lookup, service

app = typer.Typer(help="Parties (người sử dụng đất): add, show, find, edit, merge, members.",
                  no_args_is_help=True)
out = Console(highlight=False)

Kind = typer.Option(..., "--kind", help="individual, household, group, organisation, "
                    "religious, community, overseas_vietnamese, foreigner")
Cccd = typer.Option(None, "--cccd", help="Căn cước number (12 digits).")
Cmnd = typer.Option(None, "--cmnd", help="Legacy CMND number (9 digits).")
Passport = typer.Option(None, "--passport", help="Passport number (with --nationality).")
Nationality = typer.Option(None, "--nationality", help="ISO 3166-1 code, e.g. KR or KOR.")
BirthYear = typer.Option(None, "--birth-year")
BirthDate = typer.Option(None, "--birth-date", help="YYYY-MM-DD.")
Gender = typer.Option(None, "--gender", help="male or female.")
TaxCode = typer.Option(None, "--tax-code", help="Tax or enterprise code (10 or 10-3 digits).")
SourceKind = typer.Option("other", "--source-kind",
                          help="decision, application, contract, court_order, other, ...")
SourceRef = typer.Option(..., "--source-ref", help="Reference of the document (số hiệu).")
Dossier = typer.Option(None, "--dossier", help="Dossier code that caused the change.")


def _who(command: str) -> Actor:
    return Actor(f"os:{getpass.getuser()}", "cli", f"cadastre party {command}")


def _identity(cccd: str | None, cmnd: str | None, passport: str | None,
              nationality: str | None, birth_year: int | None, birth_date: str | None,
              gender: str | None) -> service.Identity | None:
    documents = [(k, v) for k, v in (("cccd", cccd), ("cmnd", cmnd), ("passport", passport))
                 if v is not None]
    if len(documents) > 1:
        raise InvalidInput("give one identity document: --cccd, --cmnd or --passport")
    given = (documents, nationality, birth_year, birth_date, gender)
    if not any(given):
        return None
    try:
        born = date.fromisoformat(birth_date) if birth_date else None
    except ValueError:
        raise InvalidInput(f"--birth-date {birth_date!r} is not YYYY-MM-DD") from None
    kind, number = documents[0] if documents else (None, None)
    return service.Identity(kind, number, nationality, born, birth_year, gender)


def _print(view: dict[str, Any]) -> None:
    document = (f", {view['id_kind'].upper()} {view['id_number']}" if view.get("id_kind")
                else "")
    code = f", tax code {view['organisation_code']}" if view.get("organisation_code") else ""
    out.print(f"party #{view['party_id']} {view['kind']}: {view['name']}{document}{code}"
              + (f" (merged into #{view['merged_into']})" if view.get("merged_into") else ""))
    for field in ("nationality", "birth_date", "birth_year", "gender", "address", "phone",
                  "email"):
        if view.get(field) is not None:
            out.print(f"  {field.replace('_', ' ')}: {view[field]}")
    for m in view.get("members", []):
        until = f" until {m['until']:%Y-%m-%d}" if m["until"] else ""
        out.print(f"  member #{m['party_id']} {m['name']} ({m['role']}) since "
                  f"{m['since']:%Y-%m-%d}{until}")
    for g in view.get("member_of", []):
        out.print(f"  member of #{g['party_id']} {g['name']} ({g['role']})")
    for r in view.get("rights", []):
        out.print(f"  {r['kind']} {r['share']} of parcel #{r['parcel_id']} "
                  f"({r['commune_code']}/{r['sheet_number']}/{r['parcel_number']})"
                  + (f", certificate #{r['certificate_id']}" if r["certificate_id"] else ""))
    if "etag" in view:
        out.print(f"  version {view['version']} (ETag {view['etag']})")


def _shown(conn: Connection, command: str, view: dict[str, Any], row_key: dict[str, Any]
           ) -> dict[str, Any]:
    people = lookup.people_shown(view)
    if people:
        log_personal_read_sync(conn, _who(command), party_ids=people, table="party",
                               row_key=row_key, reason=f"cadastre party {command}")
    return view


@app.command()
def add(kind: str = Kind, name: str = typer.Option(..., "--name"), cccd: str | None = Cccd,
        cmnd: str | None = Cmnd, passport: str | None = Passport,
        nationality: str | None = Nationality, birth_year: int | None = BirthYear,
        birth_date: str | None = BirthDate, gender: str | None = Gender,
        tax_code: str | None = TaxCode, address: str | None = typer.Option(None, "--address"),
        phone: str | None = typer.Option(None, "--phone"),
        email: str | None = typer.Option(None, "--email")) -> None:
    """Register a party (a second party with its identity document or tax code is
    refused, naming the first)."""
    party = service.NewParty(kind, name, tax_code, _identity(
        cccd, cmnd, passport, nationality, birth_year, birth_date, gender), address, phone,
        email)
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        party_id = service.create(conn, party=party)
        view = _shown(conn, "add", lookup.detail(conn, party_id=party_id),
                      {"party_id": party_id})
    out.print(f"party #{party_id} registered")
    _print(view)


@app.command()
def show(party: int) -> None:
    """A party with its members, memberships and rights."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        view = _shown(conn, "show", lookup.detail(conn, party_id=party), {"party_id": party})
    _print(view)


@app.command()
def find(id_number: str | None = typer.Option(None, "--id-number"),
         name: str | None = typer.Option(None, "--name", help="Accents and case ignored."),
         certificate: str | None = typer.Option(None, "--certificate",
                                                help="A certificate's serial: its holders."),
         kind: str | None = typer.Option(None, "--kind"),
         limit: int = typer.Option(20, "--limit"),
         offset: int = typer.Option(0, "--offset")) -> None:
    """Find parties by ID number, by name or by certificate."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        found = lookup.find(conn, id_number=id_number, name=name, certificate=certificate,
                            kind=kind, limit=limit, offset=offset)
        _shown(conn, "find", found, {"by": "cli", "q": id_number or name or certificate})
    for p in found["parties"]:
        _print(p)
    if not found["parties"]:
        out.print("no party found")
    if "next_offset" in found:
        out.print(f"more: --offset {found['next_offset']}")


@app.command()
def edit(party: int, name: str | None = typer.Option(None, "--name"),
         cccd: str | None = Cccd, cmnd: str | None = Cmnd, passport: str | None = Passport,
         nationality: str | None = Nationality, birth_year: int | None = BirthYear,
         birth_date: str | None = BirthDate, gender: str | None = Gender,
         tax_code: str | None = TaxCode,
         address: str | None = typer.Option(None, "--address"),
         phone: str | None = typer.Option(None, "--phone"),
         email: str | None = typer.Option(None, "--email")) -> None:
    """Edit a party: the options given change; any identity option replaces the whole
    identity (give the document, birth and sex together)."""
    changes: dict[str, Any] = {k: v for k, v in (
        ("name", name), ("organisation_code", tax_code), ("address", address),
        ("phone", phone), ("email", email)) if v is not None}
    identity = _identity(cccd, cmnd, passport, nationality, birth_year, birth_date, gender)
    if identity is not None:
        changes["identity"] = identity
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        service.edit(conn, party_id=party, expected_version=None, changes=changes)
        view = _shown(conn, "edit", lookup.detail(conn, party_id=party), {"party_id": party})
    out.print(f"party #{party} edited")
    _print(view)


def _apply(name: str, values: dict[str, Any], source_kind: str, source_ref: str,
           dossier: str | None) -> dict[str, Any]:
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        result = operations.apply(conn, name, values, SourceDocument(source_kind, source_ref),
                                  dossier_code=dossier)
    return {"change_id": result.change_id, **dict(result.party or {})}


@app.command()
def merge(duplicate: int, into: int = typer.Option(..., "--into"),
          source_kind: str = typer.Option("decision", "--source-kind"),
          source_ref: str = SourceRef, dossier: str | None = Dossier) -> None:
    """Merge a duplicate party into the party it repeats: its rights, restrictions,
    responsibilities, certificates and memberships move; it is kept, marked merged."""
    done = _apply("party_merge", {"party_id": duplicate, "into_party_id": into}, source_kind,
                  source_ref, dossier)
    moved = ", ".join(f"{n} {what}" for what, n in done["moved"].items())
    out.print(f"change #{done['change_id']}: party #{duplicate} merged into #{into} "
              f"({moved})")


@app.command("member-add")
def member_add(group: int, member: int, role: str = typer.Option("member", "--role",
               help="head, spouse, member (households); member, representative (groups)"),
               share: str | None = typer.Option(None, "--share", help="A group's share."),
               source_kind: str = SourceKind, source_ref: str = SourceRef,
               dossier: str | None = Dossier) -> None:
    """Add a member to a household or group."""
    done = _apply("party_member", {"party_id": group, "member_party_id": member,
                                   "role": role, "share": share}, source_kind, source_ref,
                  dossier)
    out.print(f"change #{done['change_id']}: party #{member} joins #{group} as {role}")


@app.command("member-end")
def member_end(group: int, member: int, source_kind: str = SourceKind,
               source_ref: str = SourceRef, dossier: str | None = Dossier) -> None:
    """End a member's membership of a household or group."""
    done = _apply("party_member_end", {"party_id": group, "member_party_id": member},
                  source_kind, source_ref, dossier)
    out.print(f"change #{done['change_id']}: party #{member} leaves #{group}")
