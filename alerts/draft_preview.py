"""Preview an unsaved draft: what each channel would send, before anything is stored.

The console calls this on every edit of the drafting form, so a supervisor sees characters,
SMS parts, the Korean class and its budget, and the recipients while typing. Nothing is
written; a bad request raises the same errors as drafting (unknown area, oversize text).
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import mapping

from alerts.alert_store import AlertRow, AlertState
from alerts.approval_preview import channel_preview
from alerts.areas import areas_geometry
from alerts.capvalidate import require_publishable
from alerts.capxml import serialize
from alerts.compose import DraftRequest, compose
from alerts.geotarget import SubscriberIndex
from alerts.korean import cell_broadcast_request
from alerts.service import AlertService


def preview_draft(service: AlertService, request: DraftRequest) -> dict[str, Any]:
    """The channel preview of ``request`` as if drafted now, plus the area as GeoJSON."""
    now = service.clock.now()
    composed = compose(request, gazetteer=service.gazetteer, now=now, base_url=service.base_url)
    require_publishable(serialize(composed.alert))
    area = areas_geometry(composed.areas)
    row = AlertRow(
        id=composed.alert.identifier,
        template=composed.template.key,
        msg_type=composed.alert.msg_type.value,
        state=AlertState.DRAFT,
        exercise=request.exercise,
        text_ko=composed.texts["ko"],
        text_en=composed.texts.get("en", ""),
    )
    with service.sessions() as session:
        index = SubscriberIndex.from_session(session)
    recipients = index.recipients(area, exercise=request.exercise)
    preview = channel_preview(
        row=row,
        alert=composed.alert,
        recipients=recipients,
        sms_rate_per_s=service.sms_rate_per_s,
        cell_broadcast=cell_broadcast_request(
            composed.alert, text=composed.texts["ko"], gu_codes=composed.gu_codes, requested_at=now
        ),
    )
    preview["id"] = None
    preview["area"] = mapping(shapely.simplify(area, 0.0001))
    preview["area_names"] = [a.area_desc for a in composed.areas]
    return preview
