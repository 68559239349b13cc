"""Events of the service center. Heartbeats emit none: they only move a lease."""

from pydantic import BaseModel

INSTANCE_REGISTERED = "registry.instance.registered"
INSTANCE_DEREGISTERED = "registry.instance.deregistered"
INSTANCE_EVICTED = "registry.instance.evicted"
INSTANCE_HEALTH_CHANGED = "registry.instance.health_changed"
CREDENTIAL_CREATED = "registry.credential.created"
CREDENTIAL_REVOKED = "registry.credential.revoked"


class InstanceChanged(BaseModel):
    """An instance came, went or changed health; ``index`` is the registry's change index."""

    service: str
    instance_id: str
    index: int
    healthy: bool | None = None


class CredentialChanged(BaseModel):
    credential_id: int
    owner: str
