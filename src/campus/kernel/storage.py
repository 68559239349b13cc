"""File storage: content-addressed blobs behind one interface.

Chosen by ``CAMPUS_STORAGE_URL``: ``file://var/files`` (a directory relative to the working
directory) or ``file:///srv/campus/files`` (absolute). An S3-compatible store (``s3://``) is not
built yet: such a URL stops the process at start-up rather than pretending to work.

A blob's key is its content's address, ``ab/cd/<sha256>``. The same bytes are stored once, a
stored blob never changes, and a key is checked against that shape before it touches the file
system, so no key can name a path outside the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote

import anyio
from anyio import to_thread

CHUNK_SIZE = 256 * 1024
KEY_PATTERN = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
# Uploads are written here first and renamed into place when complete: a reader never sees a
# partial blob. The name is not hexadecimal, so it can never collide with a key.
TEMP_DIR = ".incoming"


class StorageError(Exception):
    pass


class InvalidKey(StorageError, ValueError):
    """A key that is not a content address (``ab/cd/<sha256>``)."""


class BlobNotFound(StorageError, LookupError):
    pass


class TooLarge(StorageError):
    """More bytes arrived than the caller allowed; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class StorageNotAvailable(StorageError, ValueError):
    """The configured kind of storage cannot be used (unknown, or not built yet)."""


@dataclass(frozen=True)
class Blob:
    key: str
    sha256: str
    size: int


def key_of(sha256: str) -> str:
    """The key of the blob whose content has this SHA-256 (lowercase hex)."""
    key = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
    check_key(key)
    return key


def check_key(key: str) -> tuple[str, str, str]:
    """The key's parts, or ``InvalidKey`` when it is not a content address."""
    match = KEY_PATTERN.fullmatch(key)
    if match is None or match[3][:2] != match[1] or match[3][2:4] != match[2]:
        raise InvalidKey(f"not a storage key: {key!r}")
    return match[1], match[2], match[3]


class Storage(Protocol):
    async def put(
        self, content: bytes | AsyncIterable[bytes], *, max_size: int | None = None
    ) -> Blob:
        """Store the content (read chunk by chunk, hashed on the way) under its address.

        Storing bytes already present keeps one copy and marks it as just written.
        ``TooLarge`` when more than ``max_size`` bytes arrive: then nothing is stored.
        """
        ...

    async def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The blob's content in chunks; ``BlobNotFound`` at once when it is absent."""
        ...

    async def delete(self, key: str, *, untouched_for: float = 0.0) -> bool:
        """Remove the blob unless it was written (or re-written) in the last
        ``untouched_for`` seconds; returns whether it was removed.

        A blob may be shared by several owners; callers delete one only when nothing refers to
        it, and give ``untouched_for`` so that a write of the same bytes whose reference is not
        yet committed keeps it.
        """
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int:
        """The blob's length in bytes; ``BlobNotFound`` when it is absent."""
        ...

    async def ping(self) -> None:
        """Raise unless blobs can be written now (for ``campus check``)."""
        ...


class LocalStorage:
    """Blobs as files below one directory (a local disk, or a shared or replicated mount when
    several hosts serve the same files)."""

    def __init__(self, root: Path) -> None:
        self.root = root.absolute()

    def path_of(self, key: str) -> Path:
        first, second, digest = check_key(key)
        return self.root / first / second / digest

    async def put(
        self, content: bytes | AsyncIterable[bytes], *, max_size: int | None = None
    ) -> Blob:
        incoming = self.root / TEMP_DIR
        await to_thread.run_sync(lambda: incoming.mkdir(parents=True, exist_ok=True))
        fd, name = await to_thread.run_sync(lambda: tempfile.mkstemp(dir=incoming))
        temporary = Path(name)
        try:
            with os.fdopen(fd, "wb") as raw:
                digest, size = await _write(raw, content, max_size)
            blob = Blob(key_of(digest), digest, size)
            await to_thread.run_sync(_settle, temporary, self.path_of(blob.key))
        except BaseException:
            # Even when cancelled: a refused or broken upload leaves nothing behind.
            with anyio.CancelScope(shield=True):
                await to_thread.run_sync(lambda: temporary.unlink(missing_ok=True))
            raise
        return blob

    async def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        if not await to_thread.run_sync(path.is_file):
            raise BlobNotFound(key)
        # Opened on the first read, so that an iterator never read holds no open file.
        return _chunks(path, chunk_size)

    async def delete(self, key: str, *, untouched_for: float = 0.0) -> bool:
        path = self.path_of(key)
        return await to_thread.run_sync(_delete_idle, path, untouched_for)

    async def exists(self, key: str) -> bool:
        path = self.path_of(key)
        return await to_thread.run_sync(path.is_file)

    async def size(self, key: str) -> int:
        path = self.path_of(key)
        try:
            stat = await to_thread.run_sync(path.stat)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return stat.st_size

    async def ping(self) -> None:
        def probe() -> None:
            incoming = self.root / TEMP_DIR
            incoming.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=incoming):
                pass

        await to_thread.run_sync(probe)


async def _write(
    raw: BinaryIO, content: bytes | AsyncIterable[bytes], max_size: int | None
) -> tuple[str, int]:
    """Write the content to the open file, hashing it; the file is on disk when this returns."""
    digest = hashlib.sha256()
    size = 0
    file = anyio.wrap_file(raw)
    async for chunk in _as_chunks(content):
        size += len(chunk)
        if max_size is not None and size > max_size:
            raise TooLarge(max_size)
        digest.update(chunk)
        await file.write(chunk)
    await file.flush()
    await to_thread.run_sync(os.fsync, raw.fileno())
    return digest.hexdigest(), size


async def _as_chunks(content: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(content, bytes):
        for start in range(0, len(content), CHUNK_SIZE):
            yield content[start : start + CHUNK_SIZE]
        return
    async for chunk in content:
        if chunk:
            yield chunk


async def _chunks(path: Path, chunk_size: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as file:
        while chunk := await file.read(chunk_size):
            yield chunk


def _settle(temporary: Path, target: Path) -> None:
    """Move a complete upload to its address, or keep the copy already there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Marks the stored copy as just written, so that a deletion judging it idle keeps it.
        os.utime(target)
    except FileNotFoundError:
        os.replace(temporary, target)
        _sync_directory(target.parent)
    else:
        temporary.unlink()


def _delete_idle(path: Path, untouched_for: float) -> bool:
    if untouched_for <= 0:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True
    # Moved aside first, then judged: a put of the same bytes meanwhile either found it gone (and
    # wrote it anew) or touched it before the move, and the fresh time puts it back.
    aside = path.with_name(f"{path.name}.deleting-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False
    if time.time() - aside.stat().st_mtime < untouched_for:
        os.replace(aside, path)
        return False
    aside.unlink()
    return True


def _sync_directory(directory: Path) -> None:
    """Make a rename in the directory durable (a crash right after keeps the new entry)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


S3_NOT_BUILT = (
    "CAMPUS_STORAGE_URL names S3-compatible storage ({scheme}://), which is not built yet. Use a "
    "directory: file:///srv/campus/files (a shared or replicated mount when several hosts serve "
    "files)."
)


def create_storage(url: str) -> Storage:
    """The storage the URL names; the message of a refusal never repeats the URL (it may hold
    credentials)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "file":
        directory = unquote(url.removeprefix("file://"))
        if not directory.strip("/"):
            raise StorageNotAvailable("CAMPUS_STORAGE_URL=file://… must name a directory")
        return LocalStorage(Path(directory))
    if scheme in ("s3", "s3+http", "s3+https"):
        raise StorageNotAvailable(S3_NOT_BUILT.format(scheme=scheme))
    raise StorageNotAvailable(
        f"unsupported CAMPUS_STORAGE_URL scheme {scheme or '(none)'!r}: expected file:///dir"
    )
