"""Abstractive summary from a local transformers seq2seq model folder; source spans for generated text.

The generation code is not repeated here: the SageMaker handlers in ``models/summarizer/code/inference.py``
(model_fn / input_fn / predict_fn) are loaded by file path and called exactly as the endpoint calls them,
so the local engine and the cloud endpoint chunk, generate and validate the same way and one test suite
covers both. That file imports torch and transformers inside its functions only, and so does this
adapter (on the first summary), keeping cold starts light.

:func:`summary_from_generated` is shared with the SageMaker adapter: generated sentences keep their
words; each gets the spans of the source sentences that share the most words with it (the stage's
faithfulness check decides whether the summary is used).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from healthchat.adapters.local.extractive_summarizer import split_sentences
from healthchat.domain.errors import EngineUnavailableError
from healthchat.domain.models import SourceSpan, Summary, SummarySentence

# The repository's copy of the endpoint handlers (an editable install, as `make setup` makes).
INFERENCE_PY = Path(__file__).resolve().parents[4] / "models" / "summarizer" / "code" / "inference.py"
MAX_SPANS = 3  # source sentences cited by one generated sentence
MIN_GAIN = 2  # a further source sentence must add at least this much uncovered weight

# Sentence ends in generated text: a capital, digit or bracket must follow, so "2.5 mg" stays whole.
_GENERATED_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_WORD_RE = re.compile(r"[a-z]+|\d+(?:[.,/]\d+)*")
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "been", "by", "for", "from", "had", "has", "have", "he",
        "her", "his", "in", "is", "it", "its", "of", "on", "or", "she", "that", "the", "their", "them",
        "they", "this", "to", "was", "were", "will", "with", "you", "your",
    }
)  # fmt: skip


def _weights(text: str) -> dict[str, int]:
    """Content words of ``text``; numbers weigh double (a wrong number is the costliest mismatch)."""
    return {w: 2 if w[0].isdigit() else 1 for w in _WORD_RE.findall(text.lower()) if w not in _STOPWORDS}


def _best_sources(sentence: str, sources: Sequence[tuple[int, int, dict[str, int]]]) -> list[SourceSpan]:
    """Greedy cover: the source sentence sharing most weight, then others adding >= MIN_GAIN new weight."""
    wanted = _weights(sentence)
    chosen: list[tuple[int, int]] = []
    while wanted and len(chosen) < MAX_SPANS:
        best: tuple[int, int] | None = None
        best_key = (0, 0)
        for begin, end, words in sources:
            # more shared weight first, then the shorter (more specific) sentence; the earlier one on ties
            key = (sum(w for t, w in wanted.items() if t in words), begin - end)
            if key[0] and (best is None or key > best_key):
                best, best_key = (begin, end), key
        if best is None or best_key[0] < (1 if not chosen else MIN_GAIN):
            break
        chosen.append(best)
        source_words = next(words for b, e, words in sources if (b, e) == best)
        wanted = {t: w for t, w in wanted.items() if t not in source_words}
    return [SourceSpan(begin_offset=b, end_offset=e) for b, e in sorted(chosen)]


def summary_from_generated(generated: str, text: str) -> Summary:
    """The generated text as it is, each sentence pointing at its best-matching source sentences."""
    generated = generated.strip()
    if not generated:
        return Summary(text="", sentences=[])
    sources = [(b, e, _weights(text[b:e])) for b, e in split_sentences(text)]
    sentences = [
        SummarySentence(text=part, source_spans=_best_sources(part, sources))
        for part in _GENERATED_SPLIT.split(generated)
        if part.strip()
    ]
    return Summary(text=generated, sentences=sentences)


def load_inference(path: Path = INFERENCE_PY) -> ModuleType:
    """The endpoint's handler module, imported from its file (it is not part of the healthchat package)."""
    if not path.is_file():
        raise EngineUnavailableError(
            "The summary model's handler file (models/summarizer/code/inference.py) was not found; "
            "pass inference_path."
        )
    spec = importlib.util.spec_from_file_location("healthchat_summarizer_inference", path)
    if spec is None or spec.loader is None:
        raise EngineUnavailableError("The summary model's handler file could not be loaded.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Seq2SeqSummarizer:
    """Summarizer port over a seq2seq (T5/BART) model folder saved with ``save_pretrained``.

    Parameters
    ----------
    model_dir : str or Path
        Folder with ``config.json``, the weights and the tokenizer files; loaded on the first summary.
    parameters : Mapping, optional
        Generation parameters, as a request's ``"parameters"`` to the endpoint (checked here, at once).
    inference_path : Path, optional
        The handler file; defaults to the repository's ``models/summarizer/code/inference.py``.
    """

    name = "seq2seq-local"

    def __init__(
        self,
        model_dir: str | Path,
        parameters: Mapping[str, Any] | None = None,
        inference_path: Path = INFERENCE_PY,
    ) -> None:
        self.model_dir = Path(model_dir)
        self._handlers = load_inference(inference_path)
        self.parameters = dict(parameters or {})
        self._handlers.generation_parameters(self.parameters)  # a bad setting fails now, not per document
        self._model: Any = None

    def _loaded(self) -> Any:
        if self._model is None:
            if not (self.model_dir / "config.json").is_file():
                raise EngineUnavailableError("The summary model folder is missing or incomplete.")
            try:
                self._model = self._handlers.model_fn(str(self.model_dir))
            except ImportError:
                raise EngineUnavailableError(
                    "The summary model needs torch and transformers installed."
                ) from None
            except (OSError, ValueError) as exc:
                raise EngineUnavailableError(
                    f"The summary model could not be loaded ({type(exc).__name__})."
                ) from None
        return self._model

    def summarize(self, text: str, entities: Sequence[dict[str, Any]], labs: Sequence[Any]) -> Summary:
        if not text.strip():
            return Summary(text="", sentences=[])
        model = self._loaded()
        request = json.dumps({"inputs": text, "parameters": self.parameters})
        data = self._handlers.input_fn(request, "application/json")
        prediction = self._handlers.predict_fn(data, model)
        return summary_from_generated(str(prediction[0]["summary_text"]), text)
