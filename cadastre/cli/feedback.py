"""`cadastre feedback ...`: the feedback queue of an office as a supervisor works it from
the command line (queue, assign, answer). The complainant's contact is not printed: the
queue shows what was said and by when it must be answered."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table

from cadastre.cli.context import cli_engine
from cadastre.db import translate_connection_errors
from cadastre.dossiers import feedback

app = typer.Typer(help="Citizens' feedback (phản ánh, kiến nghị): queue, assign, answer.",
                  no_args_is_help=True)
out = Console(highlight=False)


@app.command()
def queue(office: str | None = typer.Option(None, "--office", help="The office (default: "
                                            "every office)."),
          status: str = typer.Option("open", "--status", help="open, overdue or answered."),
          limit: int = typer.Option(200, "--limit")) -> None:
    """The feedback of an office, the most urgent first; overdue items are flagged."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.connect() as conn:
        items = feedback.queue(conn, office=office, status=status, limit=limit)
    table = Table(title=f"feedback ({status})")
    for column in ("code", "office", "received", "answer by", "", "assigned to", "subject",
                   "text"):
        table.add_column(column)
    for f in items:
        table.add_row(f["code"], f["office_code"], f["received_at"].date().isoformat(),
                      f["answer_due"].isoformat(), "OVERDUE" if f["overdue"] else "",
                      f["assigned_to"] or "", f["subject"],
                      f["body"] if len(f["body"]) <= 80 else f["body"][:79] + "…")
    out.print(table)
    if not items:
        out.print("nothing in the queue")


@app.command()
def assign(code: str, to: str = typer.Option(..., "--to", help="A clerk, land officer or "
                                             "supervisor of the feedback's office.")) -> None:
    """Give a feedback to a staff member of its office to answer."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        feedback.assign(conn, code, assignee=to)
    out.print(f"feedback {code} assigned to {to}")


@app.command()
def answer(code: str, text: str = typer.Option(..., "--text", help="The answer the citizen "
                                                "reads."),
           by: str | None = typer.Option(None, "--by", help="Who answers (default: the OS "
                                         "user).")) -> None:
    """Answer a feedback (once: an answer is never rewritten)."""
    engine = cli_engine()
    with translate_connection_errors(engine.url), engine.begin() as conn:
        feedback.answer(conn, code, text, actor=by or f"os:{getpass.getuser()}")
    out.print(f"feedback {code} answered")
