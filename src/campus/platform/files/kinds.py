"""Which files may be uploaded: an allow-list by extension. Each kind fixes the content type the
file is served as (never the one the browser claimed) and the signature its first bytes must
carry, so that a page, a script or a program renamed to ``.pdf`` is refused."""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

# How much of a file's beginning is read to recognise it.
SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 255

Sniffer = Callable[[bytes], bool]


def starts_with(*signatures: bytes) -> Sniffer:
    return lambda head: head.startswith(signatures)


def is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def is_text(head: bytes) -> bool:
    """Plain text in UTF-8 or GB 18030 (what Chinese Windows saves): no NUL byte, and the bytes
    decode (the last character may be cut by the end of the sample)."""
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


PDF = starts_with(b"%PDF-")
# Word 97–2003, Excel 97–2003, PowerPoint 97–2003 and the WPS formats are OLE compound files.
OLE = starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
# Office Open XML and OpenDocument files are ZIP archives; an empty archive has only its end.
ZIP = starts_with(b"PK\x03\x04")
ZIP_OR_EMPTY = starts_with(b"PK\x03\x04", b"PK\x05\x06")
PNG = starts_with(b"\x89PNG\r\n\x1a\n")
JPEG = starts_with(b"\xff\xd8\xff")
GIF = starts_with(b"GIF87a", b"GIF89a")
BMP = starts_with(b"BM")

OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"


@dataclass(frozen=True)
class Kind:
    content_type: str
    looks_right: Sniffer
    # Shown in the browser when opened (pictures); everything else is downloaded.
    inline: bool = False


KINDS: dict[str, Kind] = {
    ".pdf": Kind("application/pdf", PDF),
    ".doc": Kind("application/msword", OLE),
    ".docx": Kind(f"{OOXML}.wordprocessingml.document", ZIP),
    ".xls": Kind("application/vnd.ms-excel", OLE),
    ".xlsx": Kind(f"{OOXML}.spreadsheetml.sheet", ZIP),
    ".ppt": Kind("application/vnd.ms-powerpoint", OLE),
    ".pptx": Kind(f"{OOXML}.presentationml.presentation", ZIP),
    ".wps": Kind("application/wps-office.wps", OLE),
    ".et": Kind("application/wps-office.et", OLE),
    ".dps": Kind("application/wps-office.dps", OLE),
    ".odt": Kind(f"{ODF}.text", ZIP),
    ".ods": Kind(f"{ODF}.spreadsheet", ZIP),
    ".odp": Kind(f"{ODF}.presentation", ZIP),
    ".txt": Kind("text/plain", is_text),
    ".csv": Kind("text/csv", is_text),
    ".zip": Kind("application/zip", ZIP_OR_EMPTY),
    ".png": Kind("image/png", PNG, inline=True),
    ".jpg": Kind("image/jpeg", JPEG, inline=True),
    ".jpeg": Kind("image/jpeg", JPEG, inline=True),
    ".gif": Kind("image/gif", GIF, inline=True),
    ".webp": Kind("image/webp", is_webp, inline=True),
    ".bmp": Kind("image/bmp", BMP, inline=True),
}

INLINE_TYPES = frozenset(kind.content_type for kind in KINDS.values() if kind.inline)


def extension_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def kind_of(name: str) -> Kind | None:
    return KINDS.get(extension_of(name))


def allowed_extensions() -> str:
    """The accepted extensions for a message: ``pdf, doc, docx…``."""
    return ", ".join(ext.lstrip(".") for ext in KINDS)


def clean_name(raw: str | None) -> str:
    """The name to keep and show: its last path part (old browsers send the whole path), without
    control or formatting characters (a right-to-left override could disguise ``exe.pdf``), at
    most 255 characters with its extension kept."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    if len(name) <= MAX_NAME_LENGTH:
        return name
    extension = extension_of(name)
    if len(extension) >= MAX_NAME_LENGTH:
        return name[:MAX_NAME_LENGTH]
    return name[: MAX_NAME_LENGTH - len(extension)].rstrip() + extension
