"""MedQuAD knowledge base: parsing, passages with exact offsets, build/load (folder and S3), the CLI
commands, and the rule that vectors from other embeddings are never used."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from healthchat.qa import kb as kb_module
from healthchat.qa.cli import ask_command, kb_build_command
from healthchat.qa.kb import INDEX_FILE, VECTORS_FILE, KnowledgeBaseMissing, build_kb, load_kb
from healthchat.qa.medquad import read_medquad
from healthchat.qa.text import answer_windows, document_passages, tokenize

FILES = ("7_SeniorHealth_QA/0000052.xml", "7_SeniorHealth_QA/0000062.xml", "6_NINDS_QA/0000148.xml")


@pytest.fixture(scope="module")
def source(medquad_subset: Callable[[tuple[str, ...]], Path]) -> Path:
    return medquad_subset(FILES)


class NamedFake(DeterministicFakeEmbedding):
    model_name: str = "fake-a"


def test_medquad_entries_carry_question_answer_focus_and_url(source: Path) -> None:
    entries = read_medquad(source)
    shingles = [e for e in entries if e.file == "7_SeniorHealth_QA/0000062.xml"]
    assert shingles and all(e.url == "http://nihseniorhealth.gov/shingles/toc.html" for e in shingles)
    assert {e.file for e in entries} == set(FILES)
    first = shingles[0]
    assert first.question.startswith("What is (are) Shingles") and first.answer == " ".join(
        first.answer.split()
    )


def test_answer_windows_cover_the_answer_with_exact_offsets(source: Path) -> None:
    for entry in read_medquad(source)[:20]:
        windows = answer_windows(entry.answer)
        assert windows[0].begin == 0 and windows[-1].end == len(entry.answer)
        for a, b in zip(windows, windows[1:], strict=False):
            assert entry.answer[a.end : b.begin].strip() == ""


def test_document_passages_follow_note_layout() -> None:
    text = (
        "PLAN:\n1. Increase metformin to 1000 mg. Recheck potassium in one\n   week.\n"
        "FOLLOW-UP:\nReturn in 4 weeks.\n"
    )
    spans = document_passages(text)
    assert [text[s.begin : s.end] for s in spans] == [
        "1. Increase metformin to 1000 mg.",
        "Recheck potassium in one\n   week.",
        "Return in 4 weeks.",
    ]
    assert [s.section for s in spans] == ["PLAN", "PLAN", "FOLLOW-UP"]
    assert tokenize("What are the symptoms of shingles?") == ["symptom", "shingl"]


def test_build_then_load_answers_with_nih_sources(source: Path, tmp_path: Path) -> None:
    stats = build_kb(source, tmp_path, embeddings=None)
    assert stats.embedding_model is None and not (tmp_path / VECTORS_FILE).exists()
    kb = load_kb(str(tmp_path), None)
    assert len(kb.entries) == stats.entries and len(kb.windows) == stats.windows
    top = kb.search("What are the symptoms of shingles?", k=3)[0]
    assert top.entry.focus == "Shingles" and top.text == top.entry.answer[top.begin : top.end]


def test_vectors_are_used_only_with_the_embeddings_that_made_them(source: Path, tmp_path: Path) -> None:
    stats = build_kb(source, tmp_path, embeddings=NamedFake(size=16))
    assert stats.embedding_model == "fake-a"
    assert json.loads((tmp_path / INDEX_FILE).read_text())["embedding_model"] == "fake-a"
    same = load_kb(str(tmp_path), NamedFake(size=16))
    assert same.index.vectors is not None and same.index.vectors.shape == (stats.windows, 16)
    assert same.notice is None
    other = load_kb(str(tmp_path), NamedFake(size=16, model_name="fake-b"))
    assert other.index.vectors is None and "other embeddings" in (other.notice or "")
    assert other.search("shingles vaccine", k=1)[0].hit.cosine is None  # BM25 only
    assert load_kb(str(tmp_path), None).index.vectors is None


def test_missing_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseMissing):
        load_kb(str(tmp_path / "nothing"), None)


def test_load_from_s3(source: Path, tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    build_kb(source, tmp_path, embeddings=NamedFake(size=8))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="kb-bucket")
        for name in (INDEX_FILE, VECTORS_FILE):
            s3.upload_file(str(tmp_path / name), "kb-bucket", f"kb/v1/{name}")
        kb_module._s3_client = None
        kb = load_kb("s3://kb-bucket/kb/v1", NamedFake(size=8))
        kb_module._s3_client = None
    assert kb.index.vectors is not None
    np.testing.assert_allclose(kb.index.vectors, np.load(tmp_path / VECTORS_FILE).astype(np.float32))


def test_cli_builds_the_index_and_answers_a_general_question(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from healthchat.wiring import reset_services

    monkeypatch.setenv("HEALTHCHAT_EMBEDDINGS", "none")
    monkeypatch.setenv("HEALTHCHAT_KB", str(tmp_path / "kb"))
    kb_module.clear_cache()
    reset_services()
    assert kb_build_command(source, None) == 0
    assert (tmp_path / "kb" / INDEX_FILE).is_file()
    assert ask_command("What causes shingles?", None, as_json=True) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["kind"] == "answered"
    assert answer["citations"][0]["source_url"] == "http://nihseniorhealth.gov/shingles/toc.html"
    assert ask_command("What causes shingles?", None, as_json=False) == 0
    printed = capsys.readouterr().out
    assert "[1] " in printed and "shingles/toc.html" in printed
    assert ask_command("Was my cholesterol high?", "01J0000000000000000000NONE", as_json=False) == 1
    reset_services()
