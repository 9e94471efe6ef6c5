"""/api/v1/webhooks."""

from ninja import Router

router = Router(tags=["webhooks"])
