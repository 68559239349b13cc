"""Events of the app center. Opening an app and starring one emit none: they would flood."""

from pydantic import BaseModel

APP_CREATED = "appcenter.app.created"
APP_UPDATED = "appcenter.app.updated"


class AppChanged(BaseModel):
    code: str
    name: str
    enabled: bool
