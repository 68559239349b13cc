"""Input and output models of the authentication center."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    login: str = Field(min_length=1, max_length=64, description="学号、工号、手机号或邮箱")
    password: str = Field(min_length=1, max_length=128)


class MeOut(BaseModel):
    person_id: int
    name: str
    login: str
    permissions: list[str]
