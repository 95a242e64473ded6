"""In-memory adapters, shipped in the package so tests and contract suites use the real interfaces."""

from healthchat.adapters.memory.blob import MemoryBlobStore
from healthchat.adapters.memory.records import MemoryRecordStore

__all__ = ["MemoryBlobStore", "MemoryRecordStore"]
