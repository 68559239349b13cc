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


# The developer platform.
APP_CREATED = "gateway.app.created"
SUBSCRIPTION_REQUESTED = "gateway.subscription.requested"
SUBSCRIPTION_DECIDED = "gateway.subscription.decided"
SUBSCRIPTION_CANCELLED = "gateway.subscription.cancelled"
PROPOSAL_SUBMITTED = "gateway.proposal.submitted"
PROPOSAL_REVIEWED = "gateway.proposal.reviewed"
CONSUMER_LIMITS_CHANGED = "gateway.consumer.limits_changed"
CONSUMER_OAUTH_BOUND = "gateway.consumer.oauth_bound"


class AppCreated(BaseModel):
    id: int
    username: str
    owner_id: int


class SubscriptionChanged(BaseModel):
    """``status`` is the subscription's new one: pending, approved, rejected or cancelled."""

    id: int
    app: str
    service: str
    status: str


class ProposalChanged(BaseModel):
    """``status``: pending, approved (the service now exists) or rejected."""

    id: int
    name: str
    status: str
    proposed_by: int


# The API catalog.
API_VERSION_ADDED = "gateway.api.version_added"


class ApiVersionAdded(BaseModel):
    """A source's OpenAPI document changed: ``doc_id`` is the new version."""

    source: str
    doc_id: int
    version: str
    operations: int
