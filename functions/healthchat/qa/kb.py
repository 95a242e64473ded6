"""The MedQuAD knowledge base: build its index (answer windows, BM25 tokens, embeddings) into a folder,
and load it from a folder or ``s3://bucket/prefix``.

Stored as plain files: ``kb.json`` (entries, window offsets, BM25 tokens, which embedding model made the
vectors) and ``vectors.npy`` (float16, unit rows). JSON and .npy load without running code from the file
(unlike pickle), fast enough (~0.5 s for the full MedQuAD index) and read the same from S3.
"""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from healthchat.qa.embeddings import model_name_of
from healthchat.qa.medquad import KbEntry, read_medquad
from healthchat.qa.retrieval import Hit, HybridIndex
from healthchat.qa.text import answer_windows

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

FORMAT = 1
# MedQuAD questions rarely share words with the answer windows that answer them, so keyword ranks count
# a quarter of vector ranks (dev split: top-1 0.296 at 1.0, 0.374 at 0.25, 0.386 at 0; top-5 best at
# 0.25); a little BM25 keeps exact names the embedding model does not know (drug names)
KB_BM25_WEIGHT = 0.25
INDEX_FILE = "kb.json"
VECTORS_FILE = "vectors.npy"
LICENSE = (
    "MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019), CC BY 4.0; answers by NIH institutes"
)


class KnowledgeBaseMissing(FileNotFoundError):
    """No knowledge-base index at the configured location (run `healthchat kb build`)."""


@dataclass
class BuildStats:
    entries: int
    windows: int
    embedding_model: str | None
    seconds: float
    bytes: int


@dataclass
class KbHit:
    entry: KbEntry
    begin: int
    end: int
    hit: Hit

    @property
    def text(self) -> str:
        return self.entry.answer[self.begin : self.end]


@dataclass
class KnowledgeBase:
    entries: list[KbEntry]
    windows: list[tuple[int, int, int]]  # (entry index, begin, end) into the entry's answer
    index: HybridIndex
    embedding_model: str | None  # the model the stored vectors came from (None: BM25 only)
    notice: str | None = None  # why stored vectors are not used, if they are not

    def search(self, question: str, k: int = 5, per_entry: int = 1) -> list[KbHit]:
        """The best answer windows, at most ``per_entry`` from one entry."""
        out: list[KbHit] = []
        seen: dict[int, int] = {}
        for hit in self.index.search(question, k=k * 4):
            entry_idx, begin, end = self.windows[hit.index]
            if seen.get(entry_idx, 0) >= per_entry:
                continue
            seen[entry_idx] = seen.get(entry_idx, 0) + 1
            out.append(KbHit(self.entries[entry_idx], begin, end, hit))
            if len(out) == k:
                break
        return out


def build_index(
    entries: list[KbEntry], embeddings: Embeddings | None, with_focus: bool = False
) -> tuple[list[tuple[int, int, int]], HybridIndex]:
    """Answer windows of ``entries`` and their index (answers only; ``with_focus`` prefixes the topic)."""
    windows = [(i, s.begin, s.end) for i, e in enumerate(entries) for s in answer_windows(e.answer)]
    texts = [entries[i].answer[b:e] for i, b, e in windows]
    index_texts = [f"{entries[i].focus}. {t}" for (i, _, _), t in zip(windows, texts, strict=True)]
    meta = [{"entry": i} for i, _, _ in windows]
    return windows, HybridIndex.build(texts, meta, index_texts if with_focus else None, embeddings)


def build_kb(source: Path, out: Path, embeddings: Embeddings | None) -> BuildStats:
    """Read MedQuAD under ``source`` and write the index into the folder ``out``."""
    started = time.perf_counter()
    entries = read_medquad(source)
    windows, index = build_index(entries, embeddings)
    out.mkdir(parents=True, exist_ok=True)
    model = model_name_of(embeddings) if embeddings is not None and index.vectors is not None else None
    payload = {
        "format": FORMAT,
        "license": LICENSE,
        "embedding_model": model,
        "dimensions": None if index.vectors is None else int(index.vectors.shape[1]),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "entries": [e.to_dict() for e in entries],
        "windows": windows,
        "tokens": [" ".join(t) for t in index.tokens],
    }
    (out / INDEX_FILE).write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
    vectors_path = out / VECTORS_FILE
    if index.vectors is not None:
        np.save(vectors_path, index.vectors.astype(np.float16))
    elif vectors_path.exists():
        vectors_path.unlink()  # vectors of an earlier build would not match these windows
    size = sum(p.stat().st_size for p in (out / INDEX_FILE, vectors_path) if p.exists())
    return BuildStats(len(entries), len(windows), model, time.perf_counter() - started, size)


def _read(location: str, name: str) -> bytes | None:
    if location.startswith("s3://"):
        return _read_s3(location, name)
    path = Path(location) / name
    return path.read_bytes() if path.is_file() else None


_s3_client: Any = None


def _read_s3(location: str, name: str) -> bytes | None:
    global _s3_client
    import boto3  # first use only: the query API's cold start does not pay for it

    bucket, _, prefix = location[len("s3://") :].partition("/")
    key = f"{prefix.rstrip('/')}/{name}" if prefix else name
    if _s3_client is None:
        _s3_client = boto3.client("s3")
    try:
        return bytes(_s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except _s3_client.exceptions.NoSuchKey:
        return None


def load_kb(location: str, embeddings: Embeddings | None) -> KnowledgeBase:
    """The index at ``location``. Stored vectors are used only with the embeddings that made them;
    otherwise (another model, or none configured) search is BM25 only and ``notice`` says why."""
    raw = _read(location, INDEX_FILE)
    if raw is None:
        raise KnowledgeBaseMissing("no knowledge-base index found; run `healthchat kb build`")
    data = json.loads(raw)
    if data.get("format") != FORMAT:
        raise KnowledgeBaseMissing("the knowledge-base index has an old format; rebuild it")
    entries = [KbEntry(**e) for e in data["entries"]]
    windows = [(int(i), int(b), int(e)) for i, b, e in data["windows"]]
    texts = [entries[i].answer[b:e] for i, b, e in windows]
    meta = [{"entry": i} for i, _, _ in windows]
    stored_model = data.get("embedding_model")
    vectors, notice = None, None
    if stored_model and embeddings is not None:
        if model_name_of(embeddings) == stored_model:
            blob = _read(location, VECTORS_FILE)
            if blob is not None:
                vectors = np.load(io.BytesIO(blob), allow_pickle=False).astype(np.float32)
        else:
            notice = (
                "The knowledge base was built with other embeddings than configured: keyword search only."
            )
    elif embeddings is not None:
        notice = "The knowledge base has no embeddings: keyword search only."
    tokens = [t.split() for t in data["tokens"]]
    index = HybridIndex(
        texts, meta, tokens, vectors, embeddings if vectors is not None else None, KB_BM25_WEIGHT
    )
    return KnowledgeBase(entries, windows, index, stored_model, notice)


_loaded: dict[tuple[str, str | None], KnowledgeBase] = {}
_loaded_lock = threading.Lock()


def cached_kb(location: str, embeddings: Embeddings | None) -> KnowledgeBase:
    """:func:`load_kb`, once per process and location (a warm Lambda reuses it)."""
    key = (location, None if embeddings is None else model_name_of(embeddings))
    with _loaded_lock:
        if key not in _loaded:
            kb = load_kb(location, embeddings)
            _ = kb.index.bm25  # build BM25 statistics now, not inside the first question
            _loaded[key] = kb
        return _loaded[key]


def clear_cache() -> None:
    with _loaded_lock:
        _loaded.clear()
