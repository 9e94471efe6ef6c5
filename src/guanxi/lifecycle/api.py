"""/api/v1/lifecycle."""

from ninja import Router

router = Router(tags=["lifecycle"])
