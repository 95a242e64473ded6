"""What `healthchat ask` and `healthchat kb build` run (the typer commands in healthchat.cli call these)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from healthchat.qa.models import Answer

err = Console(stderr=True)


def _print_answer(answer: Answer) -> None:
    out = Console()
    out.print(escape(answer.answer))
    if answer.citations:
        out.print("\n[bold]Sources[/bold]")
    for n, c in enumerate(answer.citations, 1):
        if c.source_url:
            where = c.source_url
        elif c.document_id:
            where = f"document {c.document_id}, characters {c.begin_offset}-{c.end_offset}"
        else:
            where = c.title or c.source
        label = f"{c.title} - " if c.title and c.source_url else ""
        out.print(f"[{n}] {escape(label)}{escape(where)}")
        out.print(f'    "{escape(" ".join(c.text.split())[:300])}"', style="dim")
    for note in (answer.fallback_reason, answer.notice):
        if note:
            out.print(f"\n{escape(note)}", style="italic")


def ask_command(question: str, document_id: str | None, as_json: bool) -> int:
    """Answer ``question`` about the local user's document ``document_id`` (or in general); exit code."""
    from healthchat.domain.errors import HealthChatError
    from healthchat.domain.models import Status
    from healthchat.local.batch import load_result
    from healthchat.qa.service import answer_document_question, answer_general_question
    from healthchat.wiring import services

    svc = services()
    try:
        if document_id:
            result = load_result(svc, svc.settings.default_owner, document_id)
            if result is None:
                err.print("[red]No such document.[/red]")
                return 1
            if result.status != Status.SUCCEEDED:
                err.print(
                    "[red]The document was not processed successfully; there is nothing to ask about.[/red]"
                )
                return 1
            answer = answer_document_question(svc, result, question)
        else:
            answer = answer_general_question(svc, question)
    except HealthChatError as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        return 1
    if as_json:
        sys.stdout.write(answer.model_dump_json() + "\n")
        sys.stdout.flush()
    else:
        _print_answer(answer)
    return 0


def kb_build_command(source: Path, out: Path | None) -> int:
    """Build the MedQuAD index from ``source`` into ``out`` (default: Settings.kb_dir; an ``s3://`` location
    is built in a temporary folder and uploaded)."""
    from healthchat.config import Settings
    from healthchat.qa.embeddings import build_embeddings
    from healthchat.qa.kb import build_kb

    settings = Settings.from_env()
    target = str(out) if out is not None else settings.kb_dir
    if not source.is_dir():
        err.print("[red]The MedQuAD folder does not exist.[/red]")
        return 1
    embeddings, notice = build_embeddings(settings)
    if notice:
        err.print(notice)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) if target.startswith("s3://") else Path(target)
        try:
            stats = build_kb(source, folder, embeddings)
        except FileNotFoundError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            return 1
        if target.startswith("s3://"):
            _upload(folder, target)
    model = stats.embedding_model or "none (BM25 only)"
    err.print(
        f"Knowledge base: {stats.entries} entries, {stats.windows} passages, embeddings: {model}, "
        f"{stats.bytes / 1e6:.1f} MB, built in {stats.seconds:.1f} s -> {target}"
    )
    return 0


def _upload(folder: Path, location: str) -> None:
    import boto3

    bucket, _, prefix = location[len("s3://") :].partition("/")
    s3 = boto3.client("s3")
    for path in sorted(folder.iterdir()):
        key = f"{prefix.rstrip('/')}/{path.name}" if prefix else path.name
        s3.upload_file(str(path), bucket, key)
