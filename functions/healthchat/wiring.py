"""The composition root: builds the adapters Settings asks for, once per process, lazily.

Handlers call :func:`services`; nothing else in the package constructs adapters. Heavy imports
(boto3, OCR, PDF rendering) happen inside the properties, so a handler pays only for what it uses.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from healthchat.config import Settings

if TYPE_CHECKING:
    from healthchat.ports import (
        BlobStore,
        MedicalExtractor,
        OcrEngine,
        PipelineStarter,
        RecordStore,
        Simplifier,
        Summarizer,
        UploadUrls,
    )


class Services:
    """The adapters for one Settings. Properties are built on first use and then reused."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()

    def _blob_store(self, area: str, bucket: str) -> BlobStore:
        s = self.settings
        if s.storage == "memory":
            from healthchat.adapters.memory.blob import MemoryBlobStore

            return MemoryBlobStore()
        if s.storage == "aws":
            from healthchat.adapters.aws.s3 import S3BlobStore

            return S3BlobStore(bucket, kms_key_id=s.kms_key_id or None)
        from healthchat.adapters.local.fs_blob import FolderBlobStore

        return FolderBlobStore(s.home / area)

    @cached_property
    def uploads(self) -> BlobStore:
        with self._lock:
            return self._blob_store("uploads", self.settings.upload_bucket)

    @cached_property
    def data(self) -> BlobStore:
        with self._lock:
            return self._blob_store("data", self.settings.data_bucket)

    @cached_property
    def records(self) -> RecordStore:
        with self._lock:
            s = self.settings
            if s.storage == "memory":
                from healthchat.adapters.memory.records import MemoryRecordStore

                return MemoryRecordStore()
            if s.storage == "aws":
                from healthchat.adapters.aws.dynamodb import DynamoRecordStore

                return DynamoRecordStore(s.table_name)
            from healthchat.adapters.local.sqlite_records import SqliteRecordStore

            return SqliteRecordStore(s.home / "records.sqlite3")

    @cached_property
    def ocr(self) -> OcrEngine:
        with self._lock:
            if self.settings.ocr == "textract":
                from healthchat.adapters.aws.textract import TextractOcr

                return TextractOcr()
            from healthchat.adapters.local.tesseract_ocr import TesseractOcr

            return TesseractOcr()

    @cached_property
    def medical(self) -> MedicalExtractor:
        with self._lock:
            if self.settings.medical == "comprehend":
                from healthchat.adapters.aws.comprehend_medical import ComprehendMedicalExtractor

                return ComprehendMedicalExtractor()
            from healthchat.adapters.local.medical_extractor import LocalMedicalExtractor

            return LocalMedicalExtractor()

    @cached_property
    def summarizer(self) -> Summarizer:
        """The configured summary engine; a model's output is checked (and replaced) by the stage."""
        with self._lock:
            s = self.settings
            if s.summarizer == "sagemaker":
                if not s.summarizer_endpoint:
                    raise RuntimeError("HEALTHCHAT_SUMMARIZER=sagemaker needs HEALTHCHAT_SUMMARIZER_ENDPOINT")
                from healthchat.adapters.aws.sagemaker_summarizer import SageMakerSummarizer

                return SageMakerSummarizer(s.summarizer_endpoint)
            if s.summarizer == "transformers":
                if not s.summarizer_model_dir:
                    raise RuntimeError(
                        "HEALTHCHAT_SUMMARIZER=transformers needs HEALTHCHAT_SUMMARIZER_MODEL_DIR"
                    )
                from healthchat.adapters.local.seq2seq_summarizer import Seq2SeqSummarizer

                return Seq2SeqSummarizer(s.summarizer_model_dir)
            from healthchat.adapters.local.extractive_summarizer import ExtractiveSummarizer

            return ExtractiveSummarizer()

    @cached_property
    def simplifier(self) -> Simplifier:
        with self._lock:
            if self.settings.simplifier == "llm":
                from healthchat.adapters.aws.llm_simplifier import LlmSimplifier

                return LlmSimplifier(settings=self.settings)
            from healthchat.adapters.local.glossary_simplifier import GlossarySimplifier

            return GlossarySimplifier()

    @cached_property
    def upload_urls(self) -> UploadUrls:
        """Presigned S3 PUTs on the upload bucket (aws); HMAC-signed ``healthchat serve`` URLs otherwise."""
        with self._lock:
            s = self.settings
            if s.storage == "aws":
                from healthchat.adapters.aws.upload_urls import S3UploadUrls

                return S3UploadUrls(
                    s.upload_bucket, ttl=s.upload_url_ttl, kms_key_id=s.kms_key_id or None, region=s.region
                )
            from healthchat.adapters.local.upload_urls import LocalUploadUrls

            return LocalUploadUrls(s.home / "upload.key", public_url=s.public_url, ttl=s.upload_url_ttl)

    @cached_property
    def pipeline(self) -> PipelineStarter:
        """Starts the pipeline on AWS Step Functions (the embedded runtime brings its own starter)."""
        with self._lock:
            if not self.settings.state_machine_arn:
                raise RuntimeError("STATE_MACHINE_ARN is not set; locally use `healthchat reprocess`")
            from healthchat.adapters.aws.stepfunctions import StepFunctionsStarter

            return StepFunctionsStarter(self.settings.state_machine_arn)


_services: Services | None = None
_services_lock = threading.Lock()


def services() -> Services:
    """The process-wide Services, built from the environment on first call."""
    global _services
    with _services_lock:
        if _services is None:
            _services = Services(Settings.from_env())
        return _services


def reset_services(new: Services | None = None) -> None:
    """Drop (or replace) the process-wide Services; tests and the embedded runtime use this."""
    global _services
    with _services_lock:
        _services = new
