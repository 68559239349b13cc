"""The local file storage: content-addressed keys, streamed and atomic writes, size limits,
deletion that spares freshly written blobs, keys that cannot leave the store, and the storage
URL (s3:// refuses to start)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.storage import (
    TEMP_DIR,
    BlobNotFound,
    InvalidKey,
    LocalStorage,
    StorageNotAvailable,
    TooLarge,
    create_storage,
    key_of,
)

CONTENT = "审批表内容".encode() * 50_000  # about 750 KB: several chunks


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def stored_files(storage: LocalStorage) -> list[Path]:
    """Every file below the store, temporary ones included."""
    return sorted(p for p in storage.root.rglob("*") if p.is_file())


async def read_all(storage: LocalStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key)])


async def stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_put_stores_under_the_content_address_and_reads_back(storage: LocalStorage) -> None:
    blob = await storage.put(CONTENT)
    digest = hashlib.sha256(CONTENT).hexdigest()
    assert blob.sha256 == digest
    assert blob.size == len(CONTENT)
    assert blob.key == f"{digest[:2]}/{digest[2:4]}/{digest}" == key_of(digest)
    assert storage.path_of(blob.key) == storage.root / digest[:2] / digest[2:4] / digest
    assert await storage.exists(blob.key)
    assert await storage.size(blob.key) == len(CONTENT)
    assert await read_all(storage, blob.key) == CONTENT
    assert [p.name for p in stored_files(storage)] == [digest], "no temporary file is left"


async def test_a_stream_is_hashed_as_it_is_written(storage: LocalStorage) -> None:
    blob = await storage.put(stream(CONTENT[:1000], b"", CONTENT[1000:300_001], CONTENT[300_001:]))
    assert blob.sha256 == hashlib.sha256(CONTENT).hexdigest()
    chunks = [chunk async for chunk in await storage.open(blob.key, chunk_size=100_000)]
    assert max(len(c) for c in chunks) == 100_000
    assert b"".join(chunks) == CONTENT


async def test_the_same_bytes_are_stored_once(storage: LocalStorage) -> None:
    first = await storage.put(b"same")
    second = await storage.put(stream(b"sa", b"me"))
    assert first == second
    assert len(stored_files(storage)) == 1


async def test_more_than_the_limit_stores_nothing(storage: LocalStorage) -> None:
    with pytest.raises(TooLarge):
        await storage.put(stream(b"x" * 600, b"x" * 600), max_size=1000)
    with pytest.raises(TooLarge):
        await storage.put(b"y" * 1001, max_size=1000)
    assert stored_files(storage) == []
    blob = await storage.put(b"z" * 1000, max_size=1000)
    assert blob.size == 1000


async def test_a_broken_stream_stores_nothing(storage: LocalStorage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"half of it"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put(broken())
    assert stored_files(storage) == []
    assert (storage.root / TEMP_DIR).is_dir()


async def test_absent_blobs(storage: LocalStorage) -> None:
    key = key_of(hashlib.sha256(b"never stored").hexdigest())
    assert not await storage.exists(key)
    with pytest.raises(BlobNotFound):
        await storage.open(key)
    with pytest.raises(BlobNotFound):
        await storage.size(key)
    assert await storage.delete(key) is False


async def test_delete(storage: LocalStorage) -> None:
    blob = await storage.put(b"to be deleted")
    assert await storage.delete(blob.key) is True
    assert not await storage.exists(blob.key)
    assert await storage.delete(blob.key) is False


async def test_delete_spares_a_blob_written_within_the_grace(storage: LocalStorage) -> None:
    blob = await storage.put(b"shared content")
    path = storage.path_of(blob.key)
    assert await storage.delete(blob.key, untouched_for=3600) is False
    assert await storage.exists(blob.key)
    age(path, 7200)
    # Another upload of the same bytes marks the blob as just written.
    await storage.put(b"shared content")
    assert await storage.delete(blob.key, untouched_for=3600) is False
    age(path, 7200)
    assert await storage.delete(blob.key, untouched_for=3600) is True
    assert stored_files(storage) == []


BAD_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    "ab/cd/../../../etc/passwd",
    "..",
    "",
    "ab/cd/" + "0" * 64,  # the prefix is not the digest's
    "AB/CD/" + "ab" * 32,  # upper case
    "ab/cd/" + "ab" * 32 + "/../x",
    "ab\\cd\\" + "ab" * 32,
    "ab/ab/" + "ab" * 32 + "\n",
    "ab/ab/" + "ab" * 32 + "\x00",
    ".incoming/tmp123",
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_no_key_reaches_outside_the_store(storage: LocalStorage, key: str) -> None:
    outside = storage.root.parent / "secret.txt"
    outside.write_text("secret")
    with pytest.raises(InvalidKey):
        storage.path_of(key)
    with pytest.raises(InvalidKey):
        await storage.open(key)
    with pytest.raises(InvalidKey):
        await storage.exists(key)
    with pytest.raises(InvalidKey):
        await storage.size(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    assert outside.read_text() == "secret"


def test_key_of_accepts_only_a_sha256() -> None:
    with pytest.raises(InvalidKey):
        key_of("../../../../etc/passwd")
    with pytest.raises(InvalidKey):
        key_of("abc")


def test_storage_urls(tmp_path: Path) -> None:
    absolute = create_storage(f"file://{tmp_path}/files")
    assert isinstance(absolute, LocalStorage)
    assert absolute.root == tmp_path / "files"
    relative = create_storage("file://var/files")
    assert isinstance(relative, LocalStorage)
    assert relative.root == Path.cwd() / "var" / "files"
    with pytest.raises(StorageNotAvailable, match="must name a directory"):
        create_storage("file:///")
    with pytest.raises(StorageNotAvailable, match="unsupported"):
        create_storage("ftp://files.example.edu.cn/")


def test_s3_is_refused_plainly_without_repeating_credentials() -> None:
    with pytest.raises(StorageNotAvailable) as caught:
        create_storage("s3://AKIAKEY:hunter2@minio.example.edu.cn/campus")
    message = str(caught.value)
    assert "not built yet" in message
    assert "hunter2" not in message and "AKIAKEY" not in message


def test_the_runtime_refuses_to_start_on_s3(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/campus.db",
        storage_url="s3://campus-files",
    )
    with pytest.raises(StorageNotAvailable, match="not built yet"):
        Runtime.create(settings, [])


def test_the_runtime_builds_the_configured_storage(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/campus.db",
        storage_url=f"file://{tmp_path}/store",
    )
    runtime = Runtime.create(settings, [])
    assert isinstance(runtime.storage, LocalStorage)
    assert runtime.storage.root == tmp_path / "store"


async def test_ping_creates_the_store_and_fails_when_it_cannot_be_written(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "new" / "files")
    await storage.ping()
    assert (storage.root / TEMP_DIR).is_dir()
    assert stored_files(storage) == []
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with pytest.raises(OSError):
        await LocalStorage(blocked / "files").ping()
