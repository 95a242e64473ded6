"""Reads template.yaml: a YAML loader for CloudFormation's short tags and each function's handler.

Hand-written rather than a dependency: cfn-lint/cfn-flip parse CFN YAML too but weigh tens of MB
and pull in boto3-era pins; the embedded runtime needs only ``!Ref``/``!GetAtt`` made into their
long forms (``{"Ref": X}``, ``{"Fn::GetAtt": [A, B]}``) over PyYAML's SafeLoader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["CfnLoader", "function_handlers", "load_template"]

SERVERLESS_FUNCTION = "AWS::Serverless::Function"

# Every intrinsic and condition function CloudFormation accepts as a short tag (`!Sub` -> "Fn::Sub").
_FN_TAGS = (
    *("And", "Base64", "Cidr", "Equals", "FindInMap", "ForEach", "GetAtt", "GetAZs", "If"),
    *("ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString"),
    "Transform",
)
_TAGS = {"Ref": "Ref", "Condition": "Condition", **{name: f"Fn::{name}" for name in _FN_TAGS}}


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Tag value`` into ``{"Fn::Tag": value}`` (``!Ref`` into ``{"Ref": ...}``)."""


def _construct(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if key == "Fn::GetAtt" and isinstance(value, str):
                # `!GetAtt Fn.Arn` is short for ["Fn", "Arn"]; the attribute may itself hold dots.
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag, _key in _TAGS.items():
    CfnLoader.add_constructor(f"!{_tag}", _construct(_key))


def load_template(path: Path | str) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML template, intrinsic functions in their long (JSON) form.

    Parameters
    ----------
    path
        The template file (``template.yaml``).

    Returns
    -------
    dict
        The template; ``{}`` for an empty file.

    Raises
    ------
    ValueError
        If the file is not a YAML mapping.
    """
    text = Path(path).read_text(encoding="utf-8")
    # CfnLoader subclasses SafeLoader: it constructs only plain data plus the CFN tags above.
    data = yaml.load(text, Loader=CfnLoader)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return data


def function_handlers(template: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Every ``AWS::Serverless::Function`` with a zip handler: logical id -> (CodeUri, Handler).

    ``Globals.Function`` supplies CodeUri/Handler that a function leaves out, as SAM does.
    Functions without a string Handler or CodeUri (container images, S3 locations) are left out.

    Parameters
    ----------
    template
        A template from :func:`load_template`.

    Returns
    -------
    dict
        ``{"ExtractTextFunction": ("functions/", "extract_text.app.lambda_handler"), ...}``.
    """
    defaults = (template.get("Globals") or {}).get("Function") or {}
    handlers: dict[str, tuple[str, str]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        props = resource.get("Properties") or {}
        code_uri = props.get("CodeUri", defaults.get("CodeUri"))
        handler = props.get("Handler", defaults.get("Handler"))
        if isinstance(code_uri, str) and isinstance(handler, str):
            handlers[logical_id] = (code_uri, handler)
    return handlers
