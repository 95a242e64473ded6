"""How a DocumentResult looks in a terminal (``healthchat process`` / ``show`` without --json)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from healthchat.domain.models import DocumentResult, Status

_FLAG_STYLE = {"high": "bold red", "low": "bold blue", "abnormal": "bold magenta", "normal": "green"}


_TIP_LABEL = {"urgent": ("Urgent: ", "bold red"), "notice": ("Note: ", "bold")}


def _labs_table(result: DocumentResult) -> Table:
    table = Table(title="Tests", title_justify="left", expand=False)
    for column in ("Test", "Value", "Unit", "Reference range", "Flag"):
        table.add_column(column)
    for lab in result.labs:
        rng = lab.reference_range.text if lab.reference_range and lab.reference_range.text else ""
        if rng and lab.reference_range is not None and lab.reference_range.source == "typical":
            rng += " (typical)"
        table.add_row(
            lab.name, lab.value, lab.unit or "", rng, Text(lab.flag, style=_FLAG_STYLE.get(lab.flag, ""))
        )
    return table


def _medications_table(result: DocumentResult) -> Table:
    table = Table(title="Medications", title_justify="left")
    for column in ("Medication", "Strength", "Dose", "Route", "Frequency"):
        table.add_column(column)
    for med in result.medications:
        table.add_row(med.name, med.strength or "", med.dose or "", med.route or "", med.frequency or "")
    return table


def render_result(console: Console, result: DocumentResult) -> None:
    title = f"{result.source.filename}  [{result.document_id}]"
    if result.status != Status.SUCCEEDED:
        error = result.error
        body = Text(
            f"{result.status.value}: {error.code} - {error.message}" if error else result.status.value,
            style="bold red",
        )
        console.print(Panel(body, title=title, title_align="left", border_style="red"))
        return
    parts: list[Table | Text] = [
        Text(
            f"SUCCEEDED · {result.text.chars if result.text else 0} characters "
            f"({result.text.method if result.text else '?'})",
            style="bold green",
        )
    ]
    if result.medications:
        parts.append(_medications_table(result))
    if result.conditions:
        conditions = ", ".join(
            f"{c.name} (negated)" if c.negated else f"{c.name} (past)" if c.history else c.name
            for c in result.conditions
        )
        parts.append(Text.assemble(("Conditions: ", "bold"), conditions))
    if result.labs:
        parts.append(_labs_table(result))
    if result.summary:
        parts.append(Text.assemble(("Summary: ", "bold"), result.summary.text))
    if result.plain_language:
        grade = result.plain_language.reading_grade
        label = (
            f"In plain language (reading grade {grade:.1f}): " if grade is not None else "In plain language: "
        )
        parts.append(Text.assemble((label, "bold"), result.plain_language.text))
    for tip in result.tips:
        tip_label = _TIP_LABEL.get(tip.kind, ("Tip: ", "bold"))
        parts.append(Text.assemble(tip_label, tip.text, (f"  [{tip.source}]", "dim")))
    console.print(Panel(Group(*parts), title=title, title_align="left", border_style="green"))
