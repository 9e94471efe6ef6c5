"""/api/v1/interactions."""

from ninja import Router

router = Router(tags=["interactions"])
