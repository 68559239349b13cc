"""Events of the API center."""

from pydantic import BaseModel

SERVICE_CREATED = "gateway.service.created"
SERVICE_DELETED = "gateway.service.deleted"
ROUTE_CREATED = "gateway.route.created"
ROUTE_DELETED = "gateway.route.deleted"
CONSUMER_CREATED = "gateway.consumer.created"
CREDENTIAL_ISSUED = "gateway.credential.issued"
CREDENTIAL_REVOKED = "gateway.credential.revoked"


class EntityChanged(BaseModel):
    """A service, route or consumer came or went; ``name`` is its name."""

    id: int
    name: str


class CredentialChanged(BaseModel):
    credential_id: int
    consumer: str
    kind: str
