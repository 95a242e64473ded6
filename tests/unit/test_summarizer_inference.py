"""models/summarizer: endpoint handlers and local Seq2SeqSummarizer run for real on a tiny T5; deploy.py.

The model is randomly initialised (T5Config: d_model 32, 2 layers) and the tokenizer is a word-level
one trained here with ``tokenizers`` on a few clinical sentences, both saved with ``save_pretrained``
into a temporary folder: no download, a few seconds. Its summaries are noise; the tests check what the
handlers do with them (shapes, determinism, chunking, errors), not their quality.
Tests that need the model are skipped where torch is not installed (the Python 3.12 environment: its
torch wheel is the CUDA build); request parsing and deploy.py are tested everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tarfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SUMMARIZER = Path(__file__).resolve().parents[2] / "models" / "summarizer"
INFERENCE_PY = SUMMARIZER / "code" / "inference.py"
CORPUS = [
    "Patient seen for follow up of type 2 diabetes mellitus and hypertension.",
    "Hemoglobin A1c was 7.2 percent, above the goal of 7.0 percent.",
    "Increase metformin to 1000 mg by mouth twice daily.",
    "Start atorvastatin 40 mg daily for LDL cholesterol of 162.",
    "Blood pressure is controlled on lisinopril 10 mg daily.",
    "Return to clinic in 3 months with repeat labs!",
    "Denies chest pain, shortness of breath or swelling?",
]
NOTE = " ".join(CORPUS)


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def inference() -> ModuleType:
    return _load(INFERENCE_PY, "summarizer_inference_under_test")


@pytest.fixture(scope="module")
def deploy() -> ModuleType:
    return _load(SUMMARIZER / "deploy.py", "summarizer_deploy_under_test")


def build_tiny_t5(folder: Path) -> Path:
    """A random T5 (d_model 32, 2 layers) and a trained word-level tokenizer, saved in ``folder``."""
    torch = pytest.importorskip("torch", reason="torch is installed in the Python 3.11 environment only")
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(
        CORPUS, trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"], min_frequency=1)
    )
    raw.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=raw, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=64
    )
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = T5Config(  # type: ignore[call-arg]
        vocab_size=raw.get_vocab_size(),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="module")
def loaded(inference: ModuleType, model_dir: Path) -> tuple[Any, Any]:
    return inference.model_fn(str(model_dir))  # type: ignore[no-any-return]


def _invoke(inference: ModuleType, loaded: tuple[Any, Any], body: dict[str, Any]) -> list[dict[str, str]]:
    data = inference.input_fn(json.dumps(body).encode(), "application/json")
    out = inference.output_fn(inference.predict_fn(data, loaded), "application/json")
    return json.loads(out)  # type: ignore[no-any-return]


def test_model_fn_loads_the_saved_folder(loaded: tuple[Any, Any]) -> None:
    model, tokenizer = loaded
    assert type(model).__name__ == "T5ForConditionalGeneration"
    assert not model.training
    assert tokenizer.model_max_length == 64
    assert tokenizer("metformin 1000 mg")["input_ids"][-1] == tokenizer.eos_token_id


def test_full_round_trip_gives_one_summary_text(inference: ModuleType, loaded: tuple[Any, Any]) -> None:
    out = _invoke(inference, loaded, {"inputs": CORPUS[2], "parameters": {"max_new_tokens": 6}})
    assert isinstance(out, list) and len(out) == 1
    assert set(out[0]) == {"summary_text"}
    words = out[0]["summary_text"].split()
    assert 0 < len(words) <= 6  # word-level vocabulary: one token per word, at most max_new_tokens
    vocab = set(loaded[1].get_vocab())
    assert set(words) <= vocab


def test_generation_is_deterministic(inference: ModuleType, loaded: tuple[Any, Any]) -> None:
    params = {"num_beams": 3, "max_new_tokens": 8, "min_new_tokens": 3}
    first = _invoke(inference, loaded, {"inputs": NOTE, "parameters": params})
    assert all(_invoke(inference, loaded, {"inputs": NOTE, "parameters": params}) == first for _ in range(2))
    greedy = _invoke(inference, loaded, {"inputs": NOTE, "parameters": {**params, "num_beams": 1}})
    assert greedy[0]["summary_text"]


def test_chunks_respect_the_token_budget_and_sentence_ends(
    inference: ModuleType, loaded: tuple[Any, Any]
) -> None:
    tokenizer = loaded[1]
    chunks = inference.chunk_text(NOTE, tokenizer, 20)
    assert len(chunks) > 2
    assert " ".join(chunks) == NOTE  # nothing dropped or reordered
    for chunk in chunks:
        assert len(tokenizer(chunk, add_special_tokens=False)["input_ids"]) <= 20
    # every piece but the last ends at a sentence end (each sentence here is shorter than the window)
    assert all(c.endswith((".", "!", "?")) for c in chunks)
    assert inference.chunk_text(CORPUS[0], tokenizer, 20) == [CORPUS[0]]


def test_long_input_is_chunked_and_summaries_joined(inference: ModuleType, loaded: tuple[Any, Any]) -> None:
    params = {"max_input_tokens": 21, "max_new_tokens": 4, "min_new_tokens": 4, "num_beams": 2}
    # 21 tokens including </s>: chunks of at most 20 text tokens
    chunks = inference.chunk_text(NOTE, loaded[1], 20)
    whole = _invoke(inference, loaded, {"inputs": NOTE, "parameters": params})[0]["summary_text"]
    one_by_one = [
        _invoke(inference, loaded, {"inputs": c, "parameters": params})[0]["summary_text"] for c in chunks
    ]
    assert whole == " ".join(one_by_one)
    assert len(chunks) > 2 and len(whole.split()) <= 4 * len(chunks)
    # batches of one give the same result as the default batch of four (padding does not leak)
    single = _invoke(inference, loaded, {"inputs": NOTE, "parameters": {**params, "batch_size": 1}})
    assert single[0]["summary_text"] == whole


def test_max_input_tokens_is_capped_at_the_model_limit(
    inference: ModuleType, loaded: tuple[Any, Any]
) -> None:
    model, tokenizer = loaded
    assert inference.model_input_limit(model, tokenizer) == 64
    long_note = " ".join([NOTE] * 3)  # ~150 tokens: more than the 64 the model takes
    params = {"max_input_tokens": 4096, "max_new_tokens": 3, "min_new_tokens": 3, "num_beams": 1}
    out = _invoke(inference, loaded, {"inputs": long_note, "parameters": params})
    pieces = inference.chunk_text(long_note, tokenizer, 63)  # 64 less the </s> the tokenizer appends
    assert len(pieces) > 1
    assert all(len(tokenizer(p, add_special_tokens=False)["input_ids"]) <= 63 for p in pieces)
    per_piece = [
        _invoke(inference, loaded, {"inputs": p, "parameters": params})[0]["summary_text"] for p in pieces
    ]
    assert all(per_piece)
    assert out[0]["summary_text"] == " ".join(per_piece)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"inputs": "Metformin 500 mg', "application/json", "not valid UTF-8 JSON at position"),
        (b"\xff\xfe", "application/json", "not valid UTF-8 JSON"),
        (b'["Metformin 500 mg"]', "application/json", "must be a JSON object"),
        (b'{"inputs": ""}', "application/json", '"inputs" must be a non-empty string'),
        (b'{"inputs": 42}', "application/json", '"inputs" must be a non-empty string'),
        (b'{"text": "Metformin 500 mg"}', "application/json", '"inputs" must be a non-empty string'),
        (b'{"inputs": "x", "extra": 1}', "application/json", "Unknown request fields: extra"),
        (b'{"inputs": "x", "parameters": []}', "application/json", '"parameters" must be a JSON object'),
        (
            b'{"inputs": "x", "parameters": {"do_sample": true}}',
            "application/json",
            "Sampling is not supported",
        ),
        (
            b'{"inputs": "x", "parameters": {"temperature": 0.7}}',
            "application/json",
            "Sampling is not supported",
        ),
        (b'{"inputs": "x", "parameters": {"beams": 2}}', "application/json", "Unknown parameters: beams"),
        (
            b'{"inputs": "x", "parameters": {"num_beams": 0}}',
            "application/json",
            '"num_beams" must be an integer',
        ),
        (
            b'{"inputs": "x", "parameters": {"num_beams": true}}',
            "application/json",
            '"num_beams" must be an integer',
        ),
        (
            b'{"inputs": "x", "parameters": {"length_penalty": "1"}}',
            "application/json",
            '"length_penalty" must be',
        ),
        (
            b'{"inputs": "x", "parameters": {"early_stopping": 1}}',
            "application/json",
            '"early_stopping" must be',
        ),
        (
            b'{"inputs": "x", "parameters": {"min_new_tokens": 9, "max_new_tokens": 4}}',
            "application/json",
            "must not exceed",
        ),
        (b"Metformin 500 mg", "text/csv", "Unsupported content type 'text/csv'"),
    ],
)
def test_bad_requests_get_a_clear_error_without_the_text(
    inference: ModuleType, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        inference.input_fn(body, content_type)
    assert isinstance(info.value, inference.InputError)
    assert "Metformin" not in str(info.value)  # the note text (PHI) is never echoed


def test_input_fn_accepts_str_and_charset_and_fills_defaults(inference: ModuleType) -> None:
    data = inference.input_fn('{"inputs": "BP 120/80."}', "application/json; charset=utf-8")
    assert data["inputs"] == "BP 120/80."
    assert data["parameters"] == inference.DEFAULT_PARAMETERS
    assert data["parameters"] is not inference.DEFAULT_PARAMETERS


def test_output_fn_serialises_json_and_refuses_other_types(inference: ModuleType) -> None:
    prediction = [{"summary_text": "A1c 7.2 % — above goal."}]
    assert json.loads(inference.output_fn(prediction, "application/json")) == prediction
    assert json.loads(inference.output_fn(prediction, "*/*")) == prediction
    with pytest.raises(ValueError, match="Unsupported accept type 'text/csv'"):
        inference.output_fn(prediction, "text/csv")


def test_importing_inference_needs_no_torch() -> None:
    source = INFERENCE_PY.read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert top_level == ["from __future__ import annotations", "import json", "from typing import Any"]


def test_local_seq2seq_summarizer_uses_the_same_handlers(
    model_dir: Path, inference: ModuleType, loaded: tuple[Any, Any]
) -> None:
    from healthchat.adapters.local.seq2seq_summarizer import Seq2SeqSummarizer
    from healthchat.ports import Summarizer

    params = {"max_new_tokens": 6, "min_new_tokens": 3, "num_beams": 2}
    summarizer = Seq2SeqSummarizer(model_dir, parameters=params)
    assert isinstance(summarizer, Summarizer)
    started = time.perf_counter()
    summary = summarizer.summarize(NOTE, [], [])
    assert time.perf_counter() - started < 30
    expected = _invoke(inference, loaded, {"inputs": NOTE, "parameters": params})[0]["summary_text"]
    assert summary.text == expected
    assert summary.sentences and " ".join(s.text for s in summary.sentences) == summary.text
    for sentence in summary.sentences:
        for span in sentence.source_spans:
            assert 0 <= span.begin_offset < span.end_offset <= len(NOTE)
    assert summarizer.summarize("   ", [], []).text == ""


def test_local_seq2seq_summarizer_reports_a_missing_model_folder(tmp_path: Path) -> None:
    from healthchat.adapters.local.seq2seq_summarizer import Seq2SeqSummarizer
    from healthchat.domain.errors import EngineUnavailableError

    with pytest.raises(EngineUnavailableError, match="summary model folder"):
        Seq2SeqSummarizer(tmp_path / "missing").summarize(NOTE, [], [])


# -- deploy.py: argument parsing, the plan and the archive, without the SageMaker SDK or AWS ---------


def _fake_model(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    (folder / "code").mkdir()  # a folder's own handler is never shipped: ours is
    (folder / "code" / "inference.py").write_text("raise SystemExit", encoding="utf-8")
    return folder


def test_deploy_help_and_dry_run_need_no_sagemaker(
    deploy: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        deploy.main(["--help"])
    assert info.value.code == 0
    assert "--dry-run" in capsys.readouterr().out
    model = _fake_model(tmp_path / "model")
    role = "arn:aws:iam::123456789012:role/sm"
    argv = ["--model-dir", str(model), "--role", role, "--bucket", "hc-models", "--kms-key-id", "k1"]
    assert deploy.main([*argv, "--dry-run"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["model_data_s3"] == "s3://hc-models/healthchat/models/summarizer/model.tar.gz"
    assert plan["archive_members"] == [
        "config.json", "model.safetensors", "tokenizer.json", "code/inference.py", "code/requirements.txt"
    ]  # fmt: skip
    assert plan["model_kwargs"] == {
        "transformers_version": "4.51.3",
        "pytorch_version": "2.6.0",
        "py_version": "py312",
        "env": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    }
    assert plan["deploy_kwargs"] == {
        "initial_instance_count": 1,
        "instance_type": "ml.m5.xlarge",
        "endpoint_name": "healthchat-summarizer",
        "kms_key": "k1",
    }
    assert plan["upload_extra_args"] == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k1"}
    assert not (tmp_path / "model.tar.gz").exists()
    assert "sagemaker" not in sys.modules


def test_deploy_package_only_writes_the_toolkit_layout(deploy: ModuleType, tmp_path: Path) -> None:
    model = _fake_model(tmp_path / "model")
    archive = tmp_path / "out" / "model.tar.gz"
    assert deploy.main(["--model-dir", str(model), "--package-only", "--archive", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(
            [
                "config.json",
                "model.safetensors",
                "tokenizer.json",
                "code/inference.py",
                "code/requirements.txt",
            ]
        )
        handler = tar.extractfile("code/inference.py")
        assert handler is not None and handler.read() == INFERENCE_PY.read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--package-only"], "--model-dir"),
        (["--model-dir", "m", "--dry-run"], "--role and --bucket are required"),
        (["--model-dir", "m", "--package-only", "--instance-count", "0"], "at least 1"),
        (["--model-dir", "m", "--package-only", "--dry-run"], "not allowed with"),
    ],
)
def test_deploy_rejects_bad_arguments(
    deploy: ModuleType, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        deploy.parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_deploy_refuses_an_incomplete_model_folder(deploy: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit, match="lacks model.safetensors"):
        deploy.main(["--model-dir", str(tmp_path / "model"), "--package-only"])
