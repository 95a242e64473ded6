"""The ``healthchat`` command (DESIGN.md section 4): process, reprocess, show, export, extract (embedded)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from healthchat.domain.models import DocumentResult, Status

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="HealthChat: read medical documents, extract the facts, explain them plainly.",
)
err = Console(stderr=True)


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=total < 2,
    )


def _emit(results: list[DocumentResult], as_json: bool, out: Path | None) -> None:
    from healthchat.render import render_result

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            (out / f"{result.document_id}.json").write_text(
                result.model_dump_json(indent=2), encoding="utf-8"
            )
    if as_json:
        for result in results:
            sys.stdout.write(result.model_dump_json() + "\n")
        sys.stdout.flush()
    else:
        console = Console()
        for result in results:
            render_result(console, result)


def _run(
    triggers: list[tuple[dict[str, str | bool], str]], as_json: bool, out: Path | None, verb: str
) -> int:
    from healthchat.local.batch import Job, run_jobs
    from healthchat.local.runtime import EmbeddedRuntime
    from healthchat.wiring import services

    svc = services()
    jobs = [Job(trigger=dict(t), label=label) for t, label in triggers]
    with EmbeddedRuntime(svc.settings) as runtime, _progress(len(jobs)) as progress:
        task = progress.add_task(f"{verb} {len(jobs)} document(s)", total=len(jobs))
        run_jobs(runtime, svc, jobs, on_done=lambda _job: progress.advance(task))
    results = [job.result for job in jobs if job.result is not None]
    _emit(results, as_json, out)
    failed = [r for r in results if r.status != Status.SUCCEEDED]
    if failed or len(results) != len(jobs):
        err.print(f"[red]{len(failed) + len(jobs) - len(results)} of {len(jobs)} document(s) failed[/red]")
        return 1
    return 0


@app.command()
def process(
    paths: Annotated[list[Path], typer.Argument(help="Files (or folders of files) to process.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One DocumentResult per line (JSON Lines).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write each result to DIR/<id>.json.")
    ] = None,
) -> None:
    """Run each file through the document pipeline. Exit 1 if any document FAILED."""
    from healthchat.local.batch import expand_paths, upload_file
    from healthchat.wiring import services

    files = expand_paths(paths)
    missing = [p for p in files if not p.is_file()]
    if missing or not files:
        err.print(f"[red]No such file: {missing[0] if missing else paths[0]}[/red]")
        raise typer.Exit(2)
    svc = services()
    owner = svc.settings.default_owner
    triggers = [(upload_file(svc, path, owner), path.name) for path in files]
    raise typer.Exit(_run(triggers, as_json, out, "Processing"))


@app.command()
def reprocess(
    document_ids: Annotated[list[str] | None, typer.Argument(help="Document ids to run again.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every document of the local user.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Only documents that FAILED.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    out: Annotated[Path | None, typer.Option("--out")] = None,
) -> None:
    """Run stored documents through the pipeline again; each keeps its id, its new result replaces the old."""
    from healthchat.stages.reprocess import ReprocessRequest, reprocess_trigger, select_documents
    from healthchat.wiring import services

    svc = services()
    try:
        request = ReprocessRequest(
            owner_id=svc.settings.default_owner, document_ids=document_ids or [], all=all_, failed=failed
        )
    except ValueError:
        err.print("[red]Name document ids, or use --all or --failed.[/red]")
        raise typer.Exit(2) from None
    records = select_documents(request, svc.records)
    if not records:
        err.print("No documents to reprocess.")
        raise typer.Exit(0)
    triggers = [(reprocess_trigger(r), r.document_id) for r in records]
    raise typer.Exit(_run(triggers, as_json, out, "Reprocessing"))


@app.command()
def watch(
    inbox: Annotated[
        Path | None, typer.Argument(help="Folder to watch (default $HEALTHCHAT_HOME/inbox).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One DocumentResult per line as each finishes.")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="Process what is there now, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 2.0,
) -> None:
    """Run every new file dropped into an inbox folder through the pipeline (Ctrl-C stops)."""
    from healthchat.local.batch import Job
    from healthchat.local.runtime import EmbeddedRuntime
    from healthchat.local.watcher import watch as watch_inbox
    from healthchat.wiring import services

    svc = services()
    folder = inbox or svc.settings.home / "inbox"
    if not once:
        err.print(f"Watching {folder} (Ctrl-C stops)")

    def done(job: Job) -> None:
        if job.result is not None:
            _emit([job.result], as_json, None)

    try:
        with EmbeddedRuntime(svc.settings) as runtime:
            watch_inbox(runtime, svc, folder, done, once=once, interval=interval)
    except KeyboardInterrupt:
        pass


@app.command()
def show(
    document_id: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a processed document's result."""
    from healthchat.local.batch import load_result
    from healthchat.wiring import services

    svc = services()
    result = load_result(svc, svc.settings.default_owner, document_id)
    if result is None:
        err.print("[red]No such document.[/red]")
        raise typer.Exit(1)
    _emit([result], as_json, None)


@app.command("list")
def list_documents(
    as_json: Annotated[bool, typer.Option("--json", help="One document per line (JSON Lines).")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most N documents.")] = 50,
    status: Annotated[
        Status | None, typer.Option("--status", case_sensitive=False, help="Only documents in this status.")
    ] = None,
) -> None:
    """List your documents, newest first: id, file name, status, when added."""
    from healthchat.wiring import services

    svc = services()
    rows: list[dict[str, str]] = []
    cursor: str | None = None
    while len(rows) < limit:
        page = svc.records.list_owner(svc.settings.default_owner, limit=min(limit, 100), cursor=cursor)
        rows += [
            {
                "document_id": r.document_id,
                "filename": r.filename,
                "status": r.status.value,
                "created_at": r.created_at.isoformat(),
            }
            for r in page.records
            if status is None or r.status == status
        ]
        cursor = page.cursor
        if cursor is None:
            break
    _print_documents(rows[:limit], as_json)


def _print_documents(rows: list[dict[str, str]], as_json: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    if as_json:
        sys.stdout.writelines(json.dumps(row) + "\n" for row in rows)
        sys.stdout.flush()
        return
    if not rows:
        err.print("No documents.")
        return
    table = Table()
    table.add_column("id", no_wrap=True, min_width=26)  # the id is what users copy: never cut it
    table.add_column("file", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("added", no_wrap=True)
    for row in rows:
        # Text, not str: a file name such as "[red]x.pdf" must not be read as markup.
        table.add_row(row["document_id"], Text(row["filename"]), row["status"], row["created_at"][:19])
    Console().print(table)


@app.command()
def export(
    document_id: str,
    fhir: Annotated[bool, typer.Option("--fhir", help="A FHIR R4 Bundle (the only format for now).")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to FILE instead of standard output.")
    ] = None,
) -> None:
    """Export a processed document's labs, medications and conditions (FHIR R4 Bundle JSON)."""
    from healthchat.domain.errors import HealthChatError
    from healthchat.domain.fhir import to_fhir_bundle
    from healthchat.local.batch import load_result
    from healthchat.wiring import services

    if not fhir:
        err.print("[red]Choose a format: --fhir.[/red]")
        raise typer.Exit(2)
    svc = services()
    result = load_result(svc, svc.settings.default_owner, document_id)
    if result is None:
        err.print("[red]No such document.[/red]")
        raise typer.Exit(1)
    if result.status != Status.SUCCEEDED:
        err.print("[red]The document was not processed successfully; there is nothing to export.[/red]")
        raise typer.Exit(1)
    try:
        text = json.dumps(to_fhir_bundle(result), indent=2)
    except HealthChatError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    if out is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        out.write_text(text + "\n", encoding="utf-8")


@app.command()
def extract(
    paths: Annotated[
        list[str] | None, typer.Argument(help="UTF-8 text files, or - for standard input.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Medical entities (DetectEntitiesV2 shape) of plain-text files; the engine is loaded once."""
    from healthchat.wiring import services

    extractor = services().medical
    failed = False
    for name in paths or ["-"]:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            failed = True
            _extract_error(name, exc, as_json)
            continue
        entities = extractor.detect_entities(text).entities
        if as_json:
            sys.stdout.write(json.dumps({"file": name, "Entities": entities}) + "\n")
        else:
            sys.stdout.write(f"{name}\n")
            for e in entities:
                traits = ",".join(t["Name"] for t in e.get("Traits", []))
                sys.stdout.write(f"  {e['Category']:<32} {e['Type']:<20} {e['Text']!r} {traits}\n")
    if failed:
        raise typer.Exit(1)


def _extract_error(name: str, exc: Exception, as_json: bool) -> None:
    """One input of ``extract`` that is not a readable UTF-8 text file: say so and go on."""
    if isinstance(exc, UnicodeDecodeError):
        code, message = "UNSUPPORTED_TYPE", "not a UTF-8 text file (healthchat process reads PDFs and images)"
    elif isinstance(exc, FileNotFoundError):
        code, message = "NOT_FOUND", "no such file"
    else:
        code, message = "UNREADABLE", f"cannot be read ({type(exc).__name__})"
    err.print(f"[red]{name}: {message}[/red]")
    if as_json:
        error = {"code": code, "message": message}
        sys.stdout.write(json.dumps({"file": name, "Entities": [], "error": error}) + "\n")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain words.")],
    document: Annotated[
        str | None, typer.Option("--document", "-d", help="Ask about this processed document (its id).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The Answer as JSON.")] = False,
) -> None:
    """Answer a health question, about one of your documents (--document ID) or in general, with citations."""
    from healthchat.qa.cli import ask_command

    if not question.strip():  # the API answers 422 to the same request
        err.print("[red]The question is empty: ask a question in plain words.[/red]")
        raise typer.Exit(2)
    raise typer.Exit(ask_command(question, document, as_json))


kb_app = typer.Typer(no_args_is_help=True, help="The MedQuAD knowledge base for general questions.")
app.add_typer(kb_app, name="kb")


@kb_app.command("build")
def kb_build(
    source: Annotated[Path, typer.Argument(help="The MedQuAD folder (NIH question-answer XML files).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Index folder (default: $HEALTHCHAT_HOME/kb).")
    ] = None,
) -> None:
    """Build the knowledge-base index from MedQuAD (run by `make setup`)."""
    from healthchat.qa.cli import kb_build_command

    raise typer.Exit(kb_build_command(source, out))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (default: this machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
) -> None:
    """Serve the HTTP API (DESIGN.md section 4) and the web app on the embedded runtime."""
    from healthchat.local.server import serve as run_server

    run_server(host=host, port=port)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
