"""Input and output models of QR-code login."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

# A challenge or token as generated here: URL-safe base64, nothing else gets near the cache.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"  # noqa: S105 (a pattern, not a secret)
Token = Annotated[str, Field(min_length=16, max_length=64, pattern=TOKEN_PATTERN)]


class ChallengeOut(BaseModel):
    challenge: str = Field(description="随机挑战值，出现在二维码的地址中")
    confirm_url: str = Field(description="二维码编码的地址：已登录的手机打开它确认登录")
    events_url: str = Field(description="Server-Sent Events：状态变化推送到发起的浏览器")
    expires_in: int = Field(description="二维码剩余有效秒数")
    svg: str = Field(description="二维码图像（内联 SVG）")


class ExchangeIn(BaseModel):
    challenge: Token
    token: Token = Field(description="手机确认后推送给发起浏览器的一次性兑换凭证")


class ExchangeOut(BaseModel):
    redirect: str = Field(description="登录后前往的本站地址")
