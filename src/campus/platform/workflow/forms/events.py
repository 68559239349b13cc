"""Events of forms (the workflow module's ``events.py`` may re-export them)."""

from __future__ import annotations

from pydantic import BaseModel

FORM_PUBLISHED = "workflow.form.published"


class FormPublished(BaseModel):
    form_id: int
    key: str
    version_id: int
    version: int
