"""BlobStore over a folder: one file per key, atomic writes, owner-only permissions (PHI at rest)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from healthchat.adapters.memory.blob import check_key, check_prefix
from healthchat.domain.errors import NotFoundError

_TMP_PREFIX = ".hc-tmp-"
_DIR_MODE = 0o700


class FolderBlobStore:
    """Keys map to files under ``root``.

    Parameters
    ----------
    root:
        The folder; created (mode 0700) on first write. Files are written 0600 to a temporary name
        in the target folder, fsynced, then ``os.replace``d, so readers never see a partial object.
        ``content_type`` is not stored (the pipeline sniffs magic bytes).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _make_dirs(self, folder: Path) -> None:
        # Path.mkdir(parents=True) gives the parents default permissions; make each level 0700.
        missing: list[Path] = []
        current = folder
        while not current.is_dir():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):
                path.mkdir(mode=_DIR_MODE)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        for attempt in range(3):
            self._make_dirs(path.parent)
            try:
                fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)  # created 0600
                break
            except FileNotFoundError:  # a concurrent delete pruned the (empty) folder
                if attempt == 2:
                    raise
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            Path(tmp).replace(path)  # atomic rename (os.replace) within one folder
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError() from None

    def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        """Remove the file (no-op if missing) and the folders it leaves empty, up to ``root``."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
            path.unlink()
        folder = path.parent
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                break
            folder = folder.parent

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, sorted; only the folder the prefix points into is walked."""
        check_prefix(prefix)
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        if not start.is_dir():
            return
        keys: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)
