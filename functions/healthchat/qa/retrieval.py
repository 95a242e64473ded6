"""Hybrid passage search (BM25 + embeddings, reciprocal rank fusion) behind a LangChain retriever.

BM25 is rank-bm25's ``BM25Okapi`` (a small, dependency-free, well-known implementation); vectors are
unit-length rows of a numpy matrix, compared by dot product. Fusing ranks rather than scores avoids
calibrating two unrelated score scales. The LangChain ``BaseRetriever`` wrapper returns ``Document``s
whose metadata carries the exact offsets a citation needs, so the same retriever feeds a chat-model chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict
from rank_bm25 import BM25Okapi

from healthchat.qa.text import tokenize

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from numpy.typing import NDArray

RRF_K = 60  # the constant of Cormack et al. (2009); ranks below ~60 matter little
_POOL = 50  # candidates taken from each ranking before fusion


@dataclass
class Hit:
    index: int  # position of the passage in the index
    score: float  # fused score (higher is better)
    bm25: float  # raw BM25 score (0 when the passage has no query word)
    cosine: float | None  # similarity to the query, when embeddings were used


@dataclass
class HybridIndex:
    """Passages (their exact text and metadata) with a BM25 index over ``index_texts`` and optional vectors.

    ``index_texts`` may add context the citation text lacks (a section header); ``texts`` are what is
    cited. ``vectors`` rows are unit length, in passage order, made by ``embeddings``.
    """

    texts: list[str]
    metadata: list[dict[str, Any]]
    tokens: list[list[str]]
    vectors: NDArray[np.float32] | None = None
    embeddings: Embeddings | None = None
    bm25_weight: float = 1.0  # weight of the BM25 rank against the vector rank in the fusion
    _bm25: BM25Okapi | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        texts: list[str],
        metadata: list[dict[str, Any]],
        index_texts: Sequence[str] | None = None,
        embeddings: Embeddings | None = None,
        embed_texts: Sequence[str] | None = None,
    ) -> HybridIndex:
        """``index_texts`` (default ``texts``) are what BM25 and the embeddings see; ``embed_texts``
        overrides what the embeddings see."""
        source = list(index_texts) if index_texts is not None else texts
        to_embed = list(embed_texts) if embed_texts is not None else source
        vectors = None
        if embeddings is not None and to_embed:
            vectors = np.asarray(embeddings.embed_documents(to_embed), dtype=np.float32)
        return cls(texts, metadata, [tokenize(t) for t in source], vectors, embeddings)

    @property
    def bm25(self) -> BM25Okapi | None:
        if self._bm25 is None and any(self.tokens):
            self._bm25 = BM25Okapi(self.tokens)
        return self._bm25

    def search(
        self, query: str, k: int = 5, min_bm25: float = 0.0, words: list[str] | None = None
    ) -> list[Hit]:
        """The ``k`` best passages for ``query`` by reciprocal rank fusion of BM25 and cosine ranks.

        ``words`` replaces the query's BM25 tokens; BM25 hits scoring ``min_bm25`` or less take no part.
        """
        if not self.texts:
            return []
        bm25_scores = self._bm25_scores(words if words is not None else tokenize(query))
        cosines = self._cosines(query)
        fused: dict[int, float] = {}
        for rank, i in enumerate(_top(bm25_scores, _POOL)):
            if bm25_scores[i] > min_bm25:
                weight = self.bm25_weight if cosines is not None else 1.0
                fused[i] = fused.get(i, 0.0) + weight / (RRF_K + rank + 1)
        if cosines is not None:
            for rank, i in enumerate(_top(cosines, _POOL)):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [
            Hit(i, fused[i], float(bm25_scores[i]), None if cosines is None else float(cosines[i]))
            for i in best
        ]

    def _bm25_scores(self, words: list[str]) -> NDArray[np.float64]:
        bm25 = self.bm25
        if bm25 is None or not words:
            return np.zeros(len(self.texts))
        return np.asarray(bm25.get_scores(words), dtype=np.float64)

    def _cosines(self, query: str) -> NDArray[np.float32] | None:
        if self.vectors is None or self.embeddings is None or not len(self.vectors):
            return None
        q = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        return np.asarray(self.vectors @ q, dtype=np.float32)

    def document(self, hit: Hit) -> Document:
        meta = {**self.metadata[hit.index], "score": hit.score, "bm25": hit.bm25, "cosine": hit.cosine}
        return Document(page_content=self.texts[hit.index], metadata=meta)


def _top(scores: NDArray[Any], n: int) -> list[int]:
    if len(scores) <= n:
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    part = np.argpartition(-scores, n)[:n]
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]


class HybridRetriever(BaseRetriever):
    """LangChain retriever over a :class:`HybridIndex`; metadata holds offsets, source and scores."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: HybridIndex
    k: int = 5
    min_bm25: float = 0.0

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [self.index.document(h) for h in self.index.search(query, self.k, self.min_bm25)]
