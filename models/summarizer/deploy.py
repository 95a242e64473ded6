"""Package models/summarizer as model.tar.gz (weights + code/) and deploy it as a SageMaker endpoint.

Run by a person with AWS credentials, never by a Lambda (nothing under functions/ imports it). The
SageMaker Python SDK (v2: ``HuggingFaceModel`` is gone from v3) is about 280 MB with its dependencies
and pins old ``packaging``/``importlib-metadata``, so it is not in HealthChat's environments: it is
imported inside :func:`deploy` only, and ``--help``, ``--dry-run`` (print the plan) and
``--package-only`` (write the archive) work without it and without AWS. Install it apart::

    python -m venv .venv-deploy && .venv-deploy/bin/pip install "sagemaker==2.257.7"
    .venv-deploy/bin/python models/summarizer/deploy.py --model-dir ./my-model --role ARN --bucket B

The archive layout is the Hugging Face inference toolkit's: the ``save_pretrained`` files at the top,
``code/inference.py`` and ``code/requirements.txt`` beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CODE_DIR = Path(__file__).resolve().parent / "code"
CODE_FILES = ("inference.py", "requirements.txt")
# The newest Hugging Face PyTorch inference image known to sagemaker 2.257.7 (image_uri_config).
TRANSFORMERS_VERSION = "4.51.3"
PYTORCH_VERSION = "2.6.0"
PY_VERSION = "py312"
# Files a model folder must hold; weights in either format.
REQUIRED = ("config.json",)
WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


@dataclass
class Plan:
    """Everything the deployment will do, printable before anything is done."""

    model_dir: str
    archive: str
    archive_members: list[str]
    s3_bucket: str
    s3_key_prefix: str
    model_data_s3: str
    endpoint_name: str
    role: str
    region: str | None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    deploy_kwargs: dict[str, Any] = field(default_factory=dict)
    upload_extra_args: dict[str, str] = field(default_factory=dict)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deploy.py",
        description="Package a seq2seq summary model with HealthChat's handler; deploy a SageMaker endpoint.",
    )
    parser.add_argument("--model-dir", type=Path, required=True, help="folder saved with save_pretrained")
    parser.add_argument(
        "--role", default="", help="SageMaker execution role ARN (required unless --package-only)"
    )
    parser.add_argument(
        "--bucket", default="", help="S3 bucket for model.tar.gz (required unless --package-only)"
    )
    parser.add_argument("--prefix", default="healthchat/models/summarizer", help="S3 key prefix")
    parser.add_argument("--endpoint-name", default="healthchat-summarizer")
    parser.add_argument("--instance-type", default="ml.m5.xlarge")
    parser.add_argument("--instance-count", type=int, default=1)
    parser.add_argument("--region", default=None, help="AWS region (default: the session's)")
    parser.add_argument(
        "--kms-key-id", default=None, help="KMS key for the S3 upload and the endpoint volume"
    )
    parser.add_argument("--transformers-version", default=TRANSFORMERS_VERSION)
    parser.add_argument("--pytorch-version", default=PYTORCH_VERSION)
    parser.add_argument("--py-version", default=PY_VERSION)
    parser.add_argument("--archive", type=Path, default=None, help="where to write model.tar.gz")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan as JSON; touch nothing")
    mode.add_argument("--package-only", action="store_true", help="write model.tar.gz and stop (no AWS)")
    args = parser.parse_args(argv)
    if args.instance_count < 1:
        parser.error("--instance-count must be at least 1")
    if not args.package_only and not (args.role and args.bucket):
        parser.error("--role and --bucket are required unless --package-only")
    return args


def model_files(model_dir: Path) -> list[Path]:
    """The model folder's files (its own code/ left out: ours replaces it), checked for completeness."""
    if not model_dir.is_dir():
        raise SystemExit(f"error: model folder not found: {model_dir}")
    missing = [name for name in REQUIRED if not (model_dir / name).is_file()]
    if not any((model_dir / name).is_file() for name in WEIGHTS):
        missing.append(" or ".join(WEIGHTS))
    if missing:
        raise SystemExit(f"error: {model_dir} lacks {', '.join(missing)} (save it with save_pretrained)")
    return sorted(
        p for p in model_dir.rglob("*") if p.is_file() and p.relative_to(model_dir).parts[0] != "code"
    )


def archive_members(model_dir: Path) -> list[tuple[Path, str]]:
    """(file, name in the archive) for every member of model.tar.gz."""
    members = [(p, p.relative_to(model_dir).as_posix()) for p in model_files(model_dir)]
    members += [(CODE_DIR / name, f"code/{name}") for name in CODE_FILES]
    return members


def build_plan(args: argparse.Namespace) -> Plan:
    archive = args.archive or args.model_dir.parent / "model.tar.gz"
    prefix = args.prefix.strip("/")
    upload_extra: dict[str, str] = {}
    deploy_kwargs: dict[str, Any] = {
        "initial_instance_count": args.instance_count,
        "instance_type": args.instance_type,
        "endpoint_name": args.endpoint_name,
        # no data_capture_config: requests and responses carry PHI and are never captured
    }
    if args.kms_key_id:
        upload_extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": args.kms_key_id}
        deploy_kwargs["kms_key"] = args.kms_key_id
    return Plan(
        model_dir=str(args.model_dir),
        archive=str(archive),
        archive_members=[name for _, name in archive_members(args.model_dir)],
        s3_bucket=args.bucket,
        s3_key_prefix=prefix,
        model_data_s3=f"s3://{args.bucket}/{prefix}/{archive.name}" if args.bucket else "",
        endpoint_name=args.endpoint_name,
        role=args.role,
        region=args.region,
        model_kwargs={
            "transformers_version": args.transformers_version,
            "pytorch_version": args.pytorch_version,
            "py_version": args.py_version,
            # the weights are in the archive: the container must never reach for the Hub
            "env": {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
        },
        deploy_kwargs=deploy_kwargs,
        upload_extra_args=upload_extra,
    )


def package(model_dir: Path, archive: Path) -> Path:
    """Write model.tar.gz: the model files at the top level, the handler under code/."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path, name in archive_members(model_dir):
            tar.add(path, arcname=name, recursive=False)
    return archive


def deploy(plan: Plan) -> str:
    """Upload the archive and create the endpoint with the SageMaker SDK (v2); returns the endpoint name."""
    import boto3
    import sagemaker
    from sagemaker.huggingface import HuggingFaceModel

    session = sagemaker.Session(boto_session=boto3.Session(region_name=plan.region))
    model_data = session.upload_data(
        plan.archive,
        bucket=plan.s3_bucket,
        key_prefix=plan.s3_key_prefix,
        extra_args=plan.upload_extra_args or None,
    )
    model = HuggingFaceModel(
        model_data=model_data, role=plan.role, sagemaker_session=session, **plan.model_kwargs
    )
    model.deploy(**plan.deploy_kwargs)
    return plan.endpoint_name


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    plan = build_plan(args)
    if args.dry_run:
        print(json.dumps(asdict(plan), indent=2))
        return 0
    archive = package(args.model_dir, Path(plan.archive))
    print(f"wrote {archive} ({archive.stat().st_size} bytes)", file=sys.stderr)
    if args.package_only:
        return 0
    endpoint = deploy(plan)
    print(f"endpoint {endpoint} is InService; set HealthChat's summary engine to it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
