"""`healthchat export --fhir` end to end: process a note in a subprocess, then export it as a FHIR Bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "healthchat.cli"]
NOTE = (
    "Assessment: type 2 diabetes mellitus. No evidence of pneumonia.\n"
    "Labs: Hemoglobin A1c 8.1 % (ref 4.0-5.6). LDL cholesterol 162 mg/dL (ref <100).\n"
    "Plan: metformin 500 mg by mouth twice daily.\n"
)


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HEALTHCHAT_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=600)


def test_export_fhir_of_a_processed_note(tmp_path: Path) -> None:
    # GIVEN a note processed into a fresh HEALTHCHAT_HOME
    home = tmp_path / "home"
    note = tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    proc = _run(["process", str(note), "--json"], home)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.splitlines()[0])
    # WHEN it is exported to stdout and to a file
    exported = _run(["export", result["document_id"], "--fhir"], home)
    out = tmp_path / "bundle.json"
    to_file = _run(["export", result["document_id"], "--fhir", "--out", str(out)], home)
    # THEN both are the same valid collection Bundle with the note's facts
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert to_file.returncode == 0 and to_file.stdout == ""
    bundle = json.loads(exported.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == bundle
    assert Bundle.model_validate(bundle).type == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Observation") == len(result["labs"]) >= 1
    assert kinds.count("MedicationStatement") == len(result["medications"]) >= 1
    assert kinds.count("Condition") == len(result["conditions"]) >= 1
    meds = [
        e["resource"]["medicationCodeableConcept"]["text"].lower()
        for e in bundle["entry"]
        if "medicationCodeableConcept" in e["resource"]
    ]
    assert "metformin" in meds
    refuted = [
        e["resource"]["code"]["text"]
        for e in bundle["entry"]
        if e["resource"].get("verificationStatus", {}).get("coding", [{}])[0].get("code") == "refuted"
    ]
    assert refuted == ["pneumonia"]  # "No evidence of pneumonia"


def test_export_unknown_document_and_missing_format(tmp_path: Path) -> None:
    missing = _run(["export", "01JD2Y8Q9V6W4XK3M5N7P8R0ST", "--fhir"], tmp_path)
    assert missing.returncode == 1 and "No such document" in missing.stderr
    no_format = _run(["export", "01JD2Y8Q9V6W4XK3M5N7P8R0ST"], tmp_path)
    assert no_format.returncode == 2 and "--fhir" in no_format.stderr
