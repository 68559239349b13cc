"""Input and output of forms: what the designer sends, what the engine and pages read."""

from __future__ import annotations

import warnings
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from campus.platform.workflow.forms.fields import (
    MAX_FIELDS,
    ColumnDef,
    FieldDef,
    Option,
    VisibleIf,
)

__all__ = [
    "ColumnDef",
    "DraftSave",
    "FieldDef",
    "FormCreate",
    "FormDetail",
    "FormSummary",
    "FormUpdate",
    "FormVersionBrief",
    "FormVersionOut",
    "Option",
    "SchemaPair",
    "VisibleIf",
]

FORM_KEY_PATTERN = r"^[a-z][a-z0-9_.-]{1,59}$"

# "schema" is the name the format gives the JSON Schema; BaseModel's deprecated method of that
# name is not used here, so pydantic's warning about the shadowing says nothing useful.
warnings.filterwarnings(
    "ignore", message='Field name "schema" in "(SchemaPair|DraftSave|FormVersionOut)"'
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SchemaPair(_Input):
    """A form's two documents, as exported and imported."""

    schema: dict[str, Any] = Field(description="JSON Schema (draft 2020-12)")  # type: ignore[assignment]
    ui_schema: dict[str, Any] = Field(description="UI schema")


class FormCreate(_Input):
    key: str = Field(pattern=FORM_KEY_PATTERN, description="表单代码：小写字母开头")
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    fields: list[FieldDef] = Field(default_factory=list, max_length=MAX_FIELDS)


class FormUpdate(_Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)


class DraftSave(_Input):
    """The next draft: either the designer's ``fields`` or an imported ``schema`` +
    ``ui_schema`` pair."""

    fields: list[FieldDef] | None = Field(None, max_length=MAX_FIELDS)
    schema: dict[str, Any] | None = None  # type: ignore[assignment]
    ui_schema: dict[str, Any] | None = None


class FormVersionBrief(BaseModel):
    id: int
    version: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    created_by: int | None
    field_count: int


class FormVersionOut(BaseModel):
    """One version of a form as the engine, the service hall and the renderer read it."""

    model_config = ConfigDict(ignored_types=(cached_property,))

    id: int
    form_id: int
    form_key: str
    form_name: str
    version: int
    schema: dict[str, Any]  # type: ignore[assignment]
    ui_schema: dict[str, Any]
    published: bool

    @cached_property
    def fields(self) -> list[FieldDef]:
        """The designer's fields of this version (what the renderer and the cleaning walk)."""
        from campus.platform.workflow.forms.compile import decompile

        return decompile(self.schema, self.ui_schema)

    def field_dicts(self) -> list[dict[str, Any]]:
        """The fields as JSON for the renderer's script (conditions, formulas, columns)."""
        return [f.model_dump(mode="json") for f in self.fields]


class FormSummary(BaseModel):
    id: int
    key: str
    name: str
    description: str
    latest_version: int | None
    published_version: int | None
    has_draft: bool
    updated_at: datetime


class FormDetail(FormSummary):
    owner_id: int | None
    created_at: datetime
    versions: list[FormVersionBrief]
