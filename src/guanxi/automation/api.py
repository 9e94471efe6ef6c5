"""/api/v1/automation."""

from ninja import Router

router = Router(tags=["automation"])
