"""Events of the monitoring center."""

from pydantic import BaseModel

DEAD_LETTER_REPLAYED = "monitor.deadletter.replayed"


class DeadLetterReplayed(BaseModel):
    """A dead-lettered event was handled successfully on an administrator's replay."""

    dead_letter_id: int
    handler: str
    event_id: str
    event_name: str
