"""Output models of the file service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

API_PREFIX = "/api/v1/files"


def download_url(file_id: str) -> str:
    return f"{API_PREFIX}/{file_id}"


class FileOut(BaseModel):
    """What a form shows of an attachment (and what an upload answers)."""

    id: str = Field(description="文件标识（随机字符串）")
    name: str = Field(description="文件名")
    size: int = Field(description="字节数")
    content_type: str = Field(description="按扩展名确定的类型")
    url: str = Field(description="本人（或有权下载全部文件者）的下载地址")


class FileMeta(FileOut):
    sha256: str = Field(description="内容的 SHA-256（十六进制）")
    owner_id: int = Field(description="上传者的人员 id")
    created_at: datetime
    bound_module: str | None = Field(description="引用该文件的模块；未引用时为空")
    bound_key: str | None = Field(description="引用该文件的对象标识")


@dataclass(frozen=True)
class OpenedFile:
    """A file ready to be sent: its record and its content in chunks (read once)."""

    meta: FileMeta
    chunks: AsyncIterator[bytes]
