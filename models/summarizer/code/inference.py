"""HealthChat summary model: SageMaker Hugging Face inference handlers for a seq2seq (T5/BART) model.

Hand-written rather than the toolkit's default handler because that one builds ``pipeline(task)``, and
transformers 5.x has no ``pipeline("summarization")``; here ``AutoModelForSeq2SeqLM.generate`` is called
directly. Notes are longer than the model's input window, so the text is cut into chunks of at most
``max_input_tokens`` tokens (at sentence ends where possible), each chunk is summarized on its own and
the chunk summaries are joined in document order. Generation is deterministic (beam search, never
sampling), so the same note always gives the same summary.

Contract (the SageMaker Hugging Face inference toolkit calls these four functions):
request ``{"inputs": "<text>", "parameters": {...}}`` (application/json), response
``[{"summary_text": "<summary>"}]``. Error messages never quote the input text (it is PHI).

HealthChat also loads this file by path for local model folders
(``healthchat.adapters.local.seq2seq_summarizer``), so it must stay importable without torch or
transformers: both are imported inside the functions that need them.
"""

from __future__ import annotations

import json
from typing import Any

JSON = "application/json"
DEFAULT_MAX_INPUT_TOKENS = 512
_HUGE = 1_000_000  # tokenizers without a known limit report model_max_length as about 1e30

# Deterministic beam search; only these keys may be changed by a request, and only within bounds.
DEFAULT_PARAMETERS: dict[str, Any] = {
    "num_beams": 4,
    "max_new_tokens": 128,
    "min_new_tokens": 0,
    "no_repeat_ngram_size": 3,
    "length_penalty": 1.0,
    "repetition_penalty": 1.0,
    "early_stopping": True,
    "max_input_tokens": None,  # None: the model's own limit (tokenizer.model_max_length, else 512)
    "batch_size": 4,
}
_INT_BOUNDS = {
    "num_beams": (1, 16),
    "max_new_tokens": (1, 1024),
    "min_new_tokens": (0, 1024),
    "no_repeat_ngram_size": (0, 10),
    "max_input_tokens": (8, 16384),
    "batch_size": (1, 64),
}
_FLOAT_BOUNDS = {"length_penalty": (-10.0, 10.0), "repetition_penalty": (0.5, 10.0)}
_SAMPLING = {"do_sample", "temperature", "top_k", "top_p", "typical_p", "seed"}
_SENTENCE_END = (".", "!", "?", ";", ":")


class InputError(ValueError):
    """A request the handler cannot serve; the toolkit answers it with HTTP 400 and this message."""


def model_fn(model_dir: str) -> tuple[Any, Any]:
    """Load the tokenizer and model saved with ``save_pretrained`` in ``model_dir`` (no hub access)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    if not getattr(tokenizer, "is_fast", False):  # chunking needs character offsets
        raise ValueError(
            "The model folder needs a fast tokenizer (tokenizer.json); save it with transformers."
        )
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir, local_files_only=True)
    model.to("cuda" if torch.cuda.is_available() else "cpu")
    model.eval()
    return model, tokenizer


def input_fn(input_data: str | bytes | bytearray, content_type: str = JSON) -> dict[str, Any]:
    """Parse and check a request: ``{"inputs": str, "parameters": {...}}`` -> ``{"inputs", "parameters"}``."""
    media = (content_type or JSON).split(";")[0].strip().lower()
    if media != JSON:
        raise InputError(f"Unsupported content type {media!r}; send application/json.")
    try:
        raw = input_data.decode("utf-8") if isinstance(input_data, bytes | bytearray) else input_data
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # the position only: the message must not quote the (PHI-bearing) body
        where = f" at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(f"The request body is not valid UTF-8 JSON{where}.") from None
    if not isinstance(body, dict):
        raise InputError('The request body must be a JSON object {"inputs": "...", "parameters": {...}}.')
    text = body.get("inputs")
    if not isinstance(text, str) or not text.strip():
        raise InputError('"inputs" must be a non-empty string (the document text).')
    unknown = set(body) - {"inputs", "parameters"}
    if unknown:
        raise InputError(f"Unknown request fields: {', '.join(sorted(unknown))}.")
    return {"inputs": text, "parameters": generation_parameters(body.get("parameters"))}


def generation_parameters(requested: Any) -> dict[str, Any]:
    """The defaults updated with the request's ``parameters``; sampling and unknown keys are refused."""
    if requested is None:
        requested = {}
    if not isinstance(requested, dict):
        raise InputError('"parameters" must be a JSON object.')
    sampling = sorted(set(requested) & _SAMPLING)
    if sampling:
        raise InputError(f"Sampling is not supported (generation is deterministic): {', '.join(sampling)}.")
    unknown = sorted(set(requested) - set(DEFAULT_PARAMETERS))
    if unknown:
        raise InputError(
            f"Unknown parameters: {', '.join(unknown)}; allowed: {', '.join(sorted(DEFAULT_PARAMETERS))}."
        )
    params = dict(DEFAULT_PARAMETERS)
    for key, value in requested.items():
        _check_parameter(key, value)
        params[key] = value
    if params["min_new_tokens"] > params["max_new_tokens"]:
        raise InputError('"min_new_tokens" must not exceed "max_new_tokens".')
    return params


def _check_parameter(key: str, value: Any) -> None:
    if key == "early_stopping":
        if not isinstance(value, bool):
            raise InputError('"early_stopping" must be true or false.')
    elif key in _INT_BOUNDS:
        low, high = _INT_BOUNDS[key]
        if key == "max_input_tokens" and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(f'"{key}" must be an integer from {low} to {high}.')
    else:
        low_f, high_f = _FLOAT_BOUNDS[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low_f <= value <= high_f:
            raise InputError(f'"{key}" must be a number from {low_f} to {high_f}.')


def model_input_limit(model: Any, tokenizer: Any) -> int:
    """Encoder input limit: the tokenizer's ``model_max_length``, else the model's positions, else 512."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _HUGE:
        return limit
    positions = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if isinstance(positions, int) and 0 < positions < _HUGE:
        return positions
    return DEFAULT_MAX_INPUT_TOKENS


def task_prefix(model: Any) -> str:
    """The prefix a T5-style model expects (``task_specific_params.summarization.prefix``), else ''."""
    task_params = getattr(getattr(model, "config", None), "task_specific_params", None) or {}
    prefix = (task_params.get("summarization") or {}).get("prefix", "")
    return prefix if isinstance(prefix, str) else ""


def chunk_text(text: str, tokenizer: Any, max_tokens: int) -> list[str]:
    """Consecutive pieces of ``text`` of at most ``max_tokens`` tokens each (special tokens excluded).

    A piece ends after the last sentence end (``.!?;:`` then whitespace) in its window when there is
    one, else at the window's end (a sentence longer than the window is cut mid-way).
    """
    if max_tokens < 1:
        raise InputError('"max_input_tokens" leaves no room for text after the special tokens.')
    # verbose=False: the whole text is longer than the model takes on purpose; no warning for that
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = encoded["offset_mapping"]
    offsets = [(b, e) for b, e in offsets if e > b]
    chunks: list[str] = []
    i, n = 0, len(offsets)
    while i < n:
        cut = min(n, i + max_tokens)
        if cut < n:
            for k in range(cut - 1, i, -1):
                end = offsets[k][1]
                # "7." in "7.2" is no sentence end: the mark must be followed by whitespace
                if text[end - 1] in _SENTENCE_END and (end == len(text) or text[end].isspace()):
                    cut = k + 1
                    break
        piece = text[offsets[i][0] : offsets[cut - 1][1]].strip()
        if piece:
            chunks.append(piece)
        i = cut
    return chunks


def predict_fn(data: dict[str, Any], model_and_tokenizer: tuple[Any, Any]) -> list[dict[str, str]]:
    """Summarize each chunk with beam search and join the chunk summaries: ``[{"summary_text": str}]``."""
    import torch

    model, tokenizer = model_and_tokenizer
    params = dict(data["parameters"])
    limit = model_input_limit(model, tokenizer)
    max_input = min(params.pop("max_input_tokens") or limit, limit)
    batch_size = params.pop("batch_size")
    prefix = task_prefix(model)
    reserved = tokenizer.num_special_tokens_to_add(pair=False)
    if prefix:
        reserved += len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    if params["num_beams"] == 1:  # beam-search-only settings would only raise warnings
        params.pop("early_stopping")
        params.pop("length_penalty")
    chunks = chunk_text(data["inputs"], tokenizer, max_input - reserved)
    summaries: list[str] = []
    device = next(model.parameters()).device
    for start in range(0, len(chunks), batch_size):
        batch = [prefix + chunk for chunk in chunks[start : start + batch_size]]
        encoded = tokenizer(batch, padding=True, truncation=True, max_length=max_input, return_tensors="pt")
        with torch.inference_mode():
            generated = model.generate(
                input_ids=encoded["input_ids"].to(device),
                attention_mask=encoded["attention_mask"].to(device),
                do_sample=False,
                **params,
            )
        summaries.extend(s.strip() for s in tokenizer.batch_decode(generated, skip_special_tokens=True))
    return [{"summary_text": " ".join(s for s in summaries if s)}]


def output_fn(prediction: list[dict[str, str]], accept: str = JSON) -> str:
    """Serialize the prediction as JSON (the only accepted response type)."""
    media = (accept or JSON).split(";")[0].strip().lower()
    if media not in (JSON, "*/*"):
        raise InputError(f"Unsupported accept type {media!r}; accept application/json.")
    return json.dumps(prediction, ensure_ascii=False)
