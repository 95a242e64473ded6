"""The `healthchat` CLI end to end, in a subprocess, on the generated sample documents and on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "healthchat.cli"]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_samples.py"), str(out)], check=True, capture_output=True
    )
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HEALTHCHAT_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=600)


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_process_samples_json(samples: Path, home: Path, tmp_path: Path) -> None:
    # GIVEN the four sample documents WHEN processed with --json and --out
    proc = _run(["process", str(samples), "--json", "--out", str(tmp_path / "out")], home)
    # THEN each yields one SUCCEEDED DocumentResult line, and exit code 0
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = _lines(proc.stdout)
    by_name = {r["source"]["filename"]: r for r in results}
    assert set(by_name) == {"lab_report.pdf", "lab_report_scan.png", "lab_report_scan.pdf", "doctor_note.txt"}
    assert all(r["status"] == "SUCCEEDED" and r["error"] is None for r in results)
    assert by_name["lab_report.pdf"]["text"]["method"] == "text-layer"
    assert by_name["lab_report_scan.png"]["text"]["method"] == "ocr"
    assert by_name["lab_report_scan.pdf"]["text"]["method"] == "ocr"
    for name in ("lab_report.pdf", "lab_report_scan.png", "lab_report_scan.pdf"):
        labs = by_name[name]["labs"]
        assert len(labs) >= 5, name
        assert any(lab["flag"] in ("high", "low") for lab in labs), name
    note = by_name["doctor_note.txt"]
    assert any(m["name"].lower() == "metformin" for m in note["medications"])
    assert note["summary"]["text"] and note["plain_language"]["text"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{r['document_id']}.json" for r in results
    )


def test_bad_inputs_fail_alone_with_stable_codes(home: Path, tmp_path: Path) -> None:
    # GIVEN a batch with an empty file, a zip named .pdf, a truncated PDF and one good note
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "archive.pdf").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n")
    (tmp_path / "note.txt").write_text("Assessment: hypertension. Plan: lisinopril 10 mg daily.\n")
    # WHEN processed
    proc = _run(["process", str(tmp_path), "--json"], home)
    # THEN the CLI exits 1, the good document succeeds and each bad one carries its code
    assert proc.returncode == 1
    by_name = {r["source"]["filename"]: r for r in _lines(proc.stdout)}
    assert by_name["note.txt"]["status"] == "SUCCEEDED"
    assert by_name["empty.pdf"]["error"]["code"] == "EMPTY_FILE"
    assert by_name["archive.pdf"]["error"]["code"] == "UNSUPPORTED_TYPE"
    assert by_name["broken.pdf"]["error"]["code"] == "CORRUPT_FILE"
    assert all(by_name[n]["status"] == "FAILED" for n in ("empty.pdf", "archive.pdf", "broken.pdf"))
    # no document text reaches the pipeline log
    log = (home / "logs" / "pipeline.log").read_text()
    assert "lisinopril" not in log and "hypertension" not in log


def test_reprocess_failed_keeps_ids_and_show_reads_results(home: Path) -> None:
    # GIVEN the failures recorded by the previous test
    proc = _run(["reprocess", "--failed", "--json"], home)
    results = _lines(proc.stdout)
    # THEN each failed document ran again, still FAILED, with the same ids
    assert proc.returncode == 1 and results
    assert all(r["status"] == "FAILED" for r in results)
    shown = _run(["show", results[0]["document_id"], "--json"], home)
    assert shown.returncode == 0 and _lines(shown.stdout)[0]["document_id"] == results[0]["document_id"]


def test_missing_file_is_a_usage_error(home: Path) -> None:
    proc = _run(["process", "/nonexistent/file.pdf"], home)
    assert proc.returncode == 2 and "No such file" in proc.stderr


def test_human_output_shows_status_medications_and_summary(samples: Path, home: Path) -> None:
    proc = _run(["process", str(samples / "doctor_note.txt")], home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for expected in (
        "SUCCEEDED",
        "Medications",
        "metformin",
        "Summary:",
        "In plain language",
        "(typical)",
        "Note:",
    ):
        assert expected in proc.stdout


def test_extract_json_files_and_stdin(samples: Path, home: Path, tmp_path: Path) -> None:
    note = samples / "doctor_note.txt"
    proc = _run(["extract", str(note), "--json"], home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = _lines(proc.stdout)[0]
    assert line["file"] == str(note)
    text = note.read_text(encoding="utf-8")
    for entity in line["Entities"]:
        assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"]
    assert any(e["Category"] == "MEDICATION" for e in line["Entities"])
    env_input = subprocess.run(
        CLI + ["extract", "-", "--json"],
        input="Denies chest pain.",
        capture_output=True,
        text=True,
        env={**os.environ, "HEALTHCHAT_HOME": str(home)},
        timeout=120,
    )
    entities = _lines(env_input.stdout)[0]["Entities"]
    assert any(any(t["Name"] == "NEGATION" for t in e["Traits"]) for e in entities)


def test_extract_reports_unreadable_inputs_and_goes_on(samples: Path, home: Path) -> None:
    # GIVEN a PDF (not text), a missing path and a text note WHEN extracted in one run
    # THEN one JSON line per input, errors with a code, the note still extracted, and exit 1
    note = samples / "doctor_note.txt"
    proc = _run(["extract", str(samples / "lab_report.pdf"), "missing.txt", str(note), "--json"], home)
    assert proc.returncode == 1
    pdf, missing, ok = _lines(proc.stdout)
    assert pdf["error"]["code"] == "UNSUPPORTED_TYPE" and pdf["Entities"] == []
    assert missing["error"]["code"] == "NOT_FOUND"
    assert "error" not in ok and ok["Entities"]
    assert "healthchat process" in proc.stderr


def test_watch_once_processes_new_inbox_files_only_once(home: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    note = inbox / "note.txt"
    note.write_text("Assessment: asthma. Plan: albuterol inhaler 2 puffs every 4 hours as needed.\n")
    os.utime(note, (1_700_000_000, 1_700_000_000))  # settled: written well before the scan
    first = _run(["watch", str(inbox), "--once", "--json"], home)
    assert first.returncode == 0, first.stderr[-2000:]
    assert [r["source"]["filename"] for r in _lines(first.stdout)] == ["note.txt"]
    again = _run(["watch", str(inbox), "--once", "--json"], home)
    assert again.returncode == 0 and _lines(again.stdout) == []


def test_list_shows_my_documents_newest_first_with_filters(tmp_path: Path) -> None:
    # GIVEN a fresh home with one good note and one empty file processed, then a second good note
    home = tmp_path / "home"
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "empty.txt").write_bytes(b"")
    (first / "old_note.txt").write_text("Plan: lisinopril 10 mg daily.\n")
    (second / "new.txt").write_text("Plan: metformin 500 mg twice daily.\n")
    assert _run(["process", str(first)], home).returncode == 1  # the empty file FAILED
    assert _run(["process", str(second)], home).returncode == 0
    # WHEN listed as JSON
    proc = _run(["list", "--json"], home)
    # THEN all three, newest first, with id, file name, status and when they were added
    assert proc.returncode == 0, proc.stderr
    rows = _lines(proc.stdout)
    assert [set(r) for r in rows] == [{"document_id", "filename", "status", "created_at"}] * 3
    assert rows[0]["filename"] == "new.txt" and rows[0]["status"] == "SUCCEEDED"
    assert [r["document_id"] for r in rows] == sorted((r["document_id"] for r in rows), reverse=True)
    assert rows[0]["created_at"] > max(r["created_at"] for r in rows[1:])
    assert {r["filename"]: r["status"] for r in rows[1:]} == {
        "empty.txt": "FAILED",
        "old_note.txt": "SUCCEEDED",
    }
    # AND --status pages past newer documents (a page of 1 at a time), --limit caps the count
    failed = _lines(_run(["list", "--json", "--status", "failed", "--limit", "1"], home).stdout)
    assert [r["filename"] for r in failed] == ["empty.txt"]
    assert _lines(_run(["list", "--json", "--limit", "2"], home).stdout) == rows[:2]
    # AND the table shows the ids, names and statuses
    table = _run(["list"], home).stdout
    assert all(r["document_id"] in table for r in rows) and "old_note.txt" in table and "FAILED" in table
    # AND an empty selection says so and is not an error; a bad status is a usage error
    none = _run(["list", "--status", "PROCESSING"], home)
    assert none.returncode == 0 and none.stdout == "" and "No documents" in none.stderr
    assert _run(["list", "--status", "DONE"], home).returncode == 2
