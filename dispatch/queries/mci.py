"""Reads of mass-casualty incidents: the response level of many incidents at once (the
queue's badge); the surge banners and an incident's MCI record are ``dispatch.mci_queries``'s
(re-exported by ``dispatch.queries``)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.mci_store import MciRow
from dispatch.queries.views import MciLevel


def mci_levels(session: Session, incident_ids: Collection[str]) -> dict[str, MciLevel]:
    """Incident id -> its response level, for those of ``incident_ids`` that are MCIs."""
    return {
        incident_id: MciLevel(proposed=proposed, confirmed=confirmed)
        for incident_id, proposed, confirmed in session.execute(
            select(MciRow.incident_id, MciRow.proposed_level, MciRow.confirmed_level).where(
                MciRow.incident_id.in_(list(incident_ids))
            )
        ).tuples()
    }
