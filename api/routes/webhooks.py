"""Webhook routes: subscriptions by theme or owner, and their delivery log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import AdminKey, EngineDep
from api.errors import ApiError
from api.schemas import DeliveriesOut, WebhookOut, WebhookRequest
from themer.errors import Errors
from themer.store.webhooks import subscribe
from themer.taxonomy import parse_taxonomy

router = APIRouter(tags=["webhooks"])


@router.post("/v1/webhooks", status_code=201, response_model=WebhookOut)
def create_webhook(body: WebhookRequest, engine: EngineDep, _: AdminKey) -> dict[str, Any]:
    """Route new comments that mention ``theme`` (or any area of ``owner`` in the
    taxonomy), optionally only from one NPS group, to ``url``. The signing secret is in
    this answer only."""
    taxonomy = parse_taxonomy(engine.active().yaml)
    areas = {label.id: label.owner for label in taxonomy.taxonomy.areas}
    if body.theme is not None and body.theme not in areas:
        raise ApiError.of(Errors.THM629, key="id", value=body.theme, known=sorted(areas))
    if body.owner is not None and body.owner not in set(areas.values()):
        raise ApiError.of(Errors.THM629, key="owner", value=body.owner,
                          known=sorted({str(owner) for owner in areas.values() if owner}))
    subscription, secret = subscribe(engine.store, str(body.url), theme=body.theme,
                                     owner=body.owner, category=body.category)
    return {"id": subscription.id, "url": subscription.url, "theme": subscription.theme,
            "owner": subscription.owner, "category": subscription.category,
            "secret": secret, "signature": "X-Themer-Signature: sha256=HMAC-SHA256(secret, "
            "X-Themer-Timestamp + '.' + body)"}


@router.get("/v1/webhooks/{subscription_id}/deliveries", response_model=DeliveriesOut)
def webhook_deliveries(subscription_id: int, engine: EngineDep, _: AdminKey,
                       state: Literal["pending", "delivered", "dead"] | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Delivery log: state, attempts, last HTTP status and error."""
    rows = engine.store.deliveries(subscription_id, state, limit, offset)
    return {"subscription_id": subscription_id, "deliveries": rows}
