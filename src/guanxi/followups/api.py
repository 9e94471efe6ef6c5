"""/api/v1/follow-ups."""

from ninja import Router

router = Router(tags=["follow-ups"])
