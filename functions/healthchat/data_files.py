"""The files shipped in ``healthchat/data`` (lexicons, lab and tip tables, the tagger model), read one way."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def data_text(name: str) -> str:
    """A shipped text file, decoded as UTF-8."""
    return resources.files("healthchat").joinpath("data", name).read_text(encoding="utf-8")


def data_json(name: str) -> Any:
    """A shipped JSON file, parsed."""
    return json.loads(data_text(name))


def data_path(name: str) -> Path:
    """The file system path of a shipped file (for libraries that open files themselves)."""
    return Path(str(resources.files("healthchat").joinpath("data", name)))
