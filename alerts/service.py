"""The alert workflow: draft → approval by a second supervisor → publish → deliver →
update/cancel, kept in the database, with exercises separated end to end.

Rules enforced here (the Hawaii 2018 lessons):
- nobody approves their own draft: the approver must be a different supervisor;
- exercises are CAP ``status=Exercise``, carry a banner, go only through sandbox channels and
  only to exercise participants, and never appear in the public feed;
- every template has a prepared cancellation, sent by ``cancel`` to everyone who got the
  original (cancelling a false alert must not wait for a second person);
- a second alert of the same template for an overlapping area within 24 h needs an explicit
  confirmation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.alert_store import AlertRow, AlertState, DeliveryRow, DeliveryState, begin_write
from alerts.approval_preview import channel_preview
from alerts.areas import Gazetteer, areas_geometry
from alerts.cap import Alert, MsgType, Status
from alerts.capvalidate import require_publishable
from alerts.capxml import parse, serialize
from alerts.channels.base import BroadcastChannel, BroadcastPost, MessageChannel
from alerts.compose import KST, DraftRequest, compose, new_identifier
from alerts.errors import ChannelError, DuplicateAlertError, WorkflowError
from alerts.fanout import FanOut, FanOutReport, plan
from alerts.geotarget import Recipient, SubscriberIndex
from alerts.korean import cell_broadcast_request
from alerts.receipts import ReceiptOutcome, record_status
from alerts.templates import get_template
from goldentime.clock import Clock
from goldentime.contracts.alerts import AlertAction, AlertDelivery, AlertRequest, mask_phone
from goldentime.contracts.core import Record

DUPLICATE_WINDOW = timedelta(hours=24)


@dataclass
class ChannelSet:
    """The channels of one mode (live or sandbox)."""

    sms: MessageChannel | None = None
    social: list[BroadcastChannel] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    alert_id: str
    exercise: bool
    recipients: int
    sms: FanOutReport | None
    social_posts: dict[str, list[str]]
    cell_broadcast: dict[str, Any]


def _same_user(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


class AlertService:
    """Everything a supervisor does with public warnings, over one database."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        gazetteer: Gazetteer,
        clock: Clock,
        base_url: str,
        live: ChannelSet | None = None,
        sandbox: ChannelSet | None = None,
        sms_rate_per_s: float = 100.0,
        sink: Callable[[Record], None] | None = None,
        fanout_workers: int = 4,
    ) -> None:
        self.sessions = sessions
        self.gazetteer = gazetteer
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.live = live or ChannelSet()
        self.sandbox = sandbox or ChannelSet()
        self.sms_rate_per_s = sms_rate_per_s
        self.sink = sink
        self.fanout_workers = fanout_workers
        self._delivery_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        for channel in [self.live.sms, *self.live.social]:
            if channel is not None and channel.sandbox:
                raise ValueError(f"live channel {channel.name} is a sandbox channel")
        for channel in [self.sandbox.sms, *self.sandbox.social]:
            if channel is not None and not channel.sandbox:
                raise ValueError(f"sandbox channel {channel.name} would reach live recipients")

    # --- reading ------------------------------------------------------------------------

    def _row(self, session: Session, alert_id: str) -> AlertRow:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise WorkflowError(f"no alert {alert_id!r}")
        return row

    def get(self, alert_id: str) -> AlertRow:
        with self.sessions() as session:
            return self._row(session, alert_id)

    def alert(self, alert_id: str) -> Alert:
        return parse(self.get(alert_id).cap_xml.encode())

    def list_rows(self, *, limit: int = 100) -> list[AlertRow]:
        with self.sessions() as session:
            query = select(AlertRow).order_by(AlertRow.created_at.desc()).limit(limit)
            return list(session.scalars(query))

    def public_rows(self) -> list[AlertRow]:
        """Published, live (not exercise) messages, newest first: what the public may see."""
        with self.sessions() as session:
            query = (
                select(AlertRow)
                .where(AlertRow.published_at.is_not(None), AlertRow.exercise.is_(False))
                .order_by(AlertRow.published_at.desc())
                .limit(200)
            )
            return list(session.scalars(query))

    def current_public_rows(self) -> list[AlertRow]:
        now = self.clock.now()
        return [
            r
            for r in self.public_rows()
            if r.state == AlertState.PUBLISHED and r.msg_type != "Cancel" and r.expires_at > now
        ]

    # --- drafting -----------------------------------------------------------------------

    def _overlapping(
        self, session: Session, *, template: str, exercise: bool, area: Any, exclude: str
    ) -> list[str]:
        since = self.clock.now() - DUPLICATE_WINDOW
        rows = session.scalars(
            select(AlertRow).where(
                AlertRow.template == template,
                AlertRow.exercise.is_(exercise),
                AlertRow.state == AlertState.PUBLISHED,
                AlertRow.msg_type != "Cancel",
                AlertRow.published_at >= since,
                AlertRow.id != exclude,
            )
        )
        return [r.id for r in rows if shapely.from_wkt(r.area_wkt).intersects(area)]

    def _emit(self, row: AlertRow, action: AlertAction, actor: str, alert: Alert) -> None:
        if self.sink is None:
            return
        ko = alert.info_for("ko")
        en = alert.info_for("en")
        self.sink(
            AlertRequest(
                id=f"{row.id}.{action.value}",
                alert_id=row.id,
                action=action,
                at=self.clock.now(),
                actor=actor,
                msg_type=alert.msg_type.value,
                exercise=row.exercise,
                template=row.template,
                headline_ko=(ko.headline or "") if ko else "",
                headline_en=(en.headline or "") if en else "",
                area_desc="; ".join(a.area_desc for a in (ko or alert.infos[0]).areas)[:2000],
                references=list(alert.references),
            )
        )

    def draft(
        self,
        request: DraftRequest,
        *,
        user: str,
        msg_type: MsgType = MsgType.ALERT,
        references_id: str | None = None,
    ) -> AlertRow:
        """Compose, check and store a draft (nothing is sent). Raises on any bad input."""
        if not user.strip():
            raise WorkflowError("drafting needs the acting supervisor's name")
        now = self.clock.now()
        references: tuple[str, ...] = ()
        if references_id is not None:
            references = (self.alert(references_id).reference,)
        composed = compose(
            request,
            gazetteer=self.gazetteer,
            now=now,
            msg_type=msg_type,
            references=references,
            base_url=self.base_url,
        )
        xml = serialize(composed.alert)
        require_publishable(xml)
        area = areas_geometry(composed.areas)
        with self.sessions() as session:
            begin_write(session)
            duplicates = self._overlapping(
                session,
                template=composed.template.key,
                exercise=request.exercise,
                area=area,
                exclude=references_id or "",
            )
            if duplicates and not request.confirm_duplicate:
                raise DuplicateAlertError(
                    f"a {composed.template.key} alert for an overlapping area was sent in the "
                    f"last 24 h ({', '.join(duplicates)}); confirm to send another",
                    previous_ids=duplicates,
                )
            row = AlertRow(
                id=composed.alert.identifier,
                template=composed.template.key,
                msg_type=msg_type.value,
                state=AlertState.DRAFT,
                exercise=request.exercise,
                references_id=references_id,
                created_by=user.strip(),
                created_at=now,
                expires_at=now + timedelta(minutes=request.expires_minutes),
                duplicate_confirmed=bool(duplicates),
                area_wkt=area.wkt,
                gu_codes=",".join(composed.gu_codes),
                text_ko=composed.texts["ko"],
                text_en=composed.texts.get("en", ""),
                cap_xml=xml.decode(),
            )
            session.add(row)
            session.commit()
        self._emit(row, AlertAction.DRAFTED, user, composed.alert)
        return row

    def update(self, alert_id: str, request: DraftRequest, *, user: str) -> AlertRow:
        """Draft an Update that references a published alert; it replaces it once approved."""
        original = self.get(alert_id)
        if original.state != AlertState.PUBLISHED or original.msg_type == "Cancel":
            raise WorkflowError(
                f"alert {alert_id} is {original.state}; only published alerts update"
            )
        if request.exercise != original.exercise:
            raise WorkflowError("an update must keep the exercise/live mode of the original")
        return self.draft(request, user=user, msg_type=MsgType.UPDATE, references_id=alert_id)

    def preview(self, alert_id: str) -> dict[str, Any]:
        """What each channel will send: characters, SMS parts, class, recipients, time."""
        row = self.get(alert_id)
        alert = parse(row.cap_xml.encode())
        recipients = self._recipients(row)
        return channel_preview(
            row=row,
            alert=alert,
            recipients=recipients,
            sms_rate_per_s=self.sms_rate_per_s,
            cell_broadcast=self._cell_broadcast(row, alert),
        )

    # --- approving and publishing ---------------------------------------------------------

    def approve(self, alert_id: str, *, user: str, confirm_duplicate: bool = False) -> AlertRow:
        """Second-person approval: re-stamp ``sent``, validate, publish. Does not deliver."""
        now = self.clock.now()
        with self.sessions() as session:
            begin_write(session)
            row = self._row(session, alert_id)
            if row.state != AlertState.DRAFT:
                raise WorkflowError(f"alert {alert_id} is {row.state}, not a draft")
            if not user.strip():
                raise WorkflowError("approval needs the approving supervisor's name")
            if _same_user(user, row.created_by):
                raise WorkflowError(
                    f"two-person rule: {user} drafted {alert_id} and cannot approve it; "
                    "another supervisor must"
                )
            area = shapely.from_wkt(row.area_wkt)
            duplicates = self._overlapping(
                session,
                template=row.template,
                exercise=row.exercise,
                area=area,
                exclude=row.references_id or "",
            )
            if duplicates and not (row.duplicate_confirmed or confirm_duplicate):
                raise DuplicateAlertError(
                    f"a {row.template} alert for an overlapping area was published in the last "
                    f"24 h ({', '.join(duplicates)}); approve with confirmation to send another",
                    previous_ids=duplicates,
                )
            alert = parse(row.cap_xml.encode()).model_copy(update={"sent": now.astimezone(KST)})
            xml = serialize(alert)
            require_publishable(xml)
            row.cap_xml = xml.decode()
            row.state = AlertState.PUBLISHED
            row.approved_by = user.strip()
            row.approved_at = now
            row.published_at = now
            if row.references_id:
                self._row(session, row.references_id).state = AlertState.SUPERSEDED
            session.commit()
        self._emit(row, AlertAction.PUBLISHED, user, alert)
        return row

    def cancel(self, alert_id: str, *, user: str) -> AlertRow:
        """Publish the template's prepared cancellation, referencing the original."""
        if not user.strip():
            raise WorkflowError("cancelling needs the acting supervisor's name")
        now = self.clock.now()
        with self.sessions() as session:
            begin_write(session)
            original = self._row(session, alert_id)
            if original.state == AlertState.DRAFT:
                original.state = AlertState.WITHDRAWN
                session.commit()
                return original
            if original.state != AlertState.PUBLISHED or original.msg_type == "Cancel":
                raise WorkflowError(f"alert {alert_id} is {original.state}; nothing to cancel")
            template = get_template(original.template)
            source = parse(original.cap_xml.encode())
            identifier = new_identifier(now)
            words = {"ko": template.cancel_ko, "en": template.cancel_en}
            infos = tuple(
                info.model_copy(
                    update={
                        "headline": words[info.language[:2]],
                        "description": words[info.language[:2]],
                        "instruction": None,
                        "effective": now.astimezone(KST),
                        "web": f"{self.base_url}/alerts/{identifier}.xml",
                    }
                )
                for info in source.infos
            )
            cancel = source.model_copy(
                update={
                    "identifier": identifier,
                    "sent": now.astimezone(KST),
                    "msg_type": MsgType.CANCEL,
                    "references": (source.reference,),
                    "infos": infos,
                }
            )
            xml = serialize(cancel)
            require_publishable(xml)
            prefix = "[훈련상황] " if original.exercise else ""
            prefix_en = "[EXERCISE - NOT REAL] " if original.exercise else ""
            row = AlertRow(
                id=identifier,
                template=original.template,
                msg_type=MsgType.CANCEL.value,
                state=AlertState.PUBLISHED,
                exercise=original.exercise,
                references_id=alert_id,
                created_by=user.strip(),
                created_at=now,
                approved_by=user.strip(),
                approved_at=now,
                published_at=now,
                expires_at=original.expires_at,
                area_wkt=original.area_wkt,
                gu_codes=original.gu_codes,
                text_ko=prefix + template.cancel_ko,
                text_en=prefix_en + template.cancel_en,
                cap_xml=xml.decode(),
            )
            original.state = AlertState.CANCELLED
            session.add(row)
            session.commit()
        self._emit(row, AlertAction.CANCELLED, user, cancel)
        return row

    # --- delivering ---------------------------------------------------------------------

    def _recipients(self, row: AlertRow) -> list[Recipient]:
        with self.sessions() as session:
            if row.msg_type == MsgType.CANCEL.value and row.references_id:
                # A cancellation goes to exactly the people who got the original.
                found = session.execute(
                    select(DeliveryRow.recipient, DeliveryRow.language).where(
                        DeliveryRow.alert_id == row.references_id,
                        DeliveryRow.state == DeliveryState.SENT,
                    )
                ).all()
                return [Recipient(r.recipient, r.language) for r in found]
            index = SubscriberIndex.from_session(session)
        return index.recipients(shapely.from_wkt(row.area_wkt), exercise=row.exercise)

    def _cell_broadcast(self, row: AlertRow, alert: Alert) -> dict[str, Any]:
        return cell_broadcast_request(
            alert,
            text=row.text_ko,
            gu_codes=[c for c in row.gu_codes.split(",") if c],
            requested_at=self.clock.now(),
        )

    def deliver(self, alert_id: str) -> DeliverySummary:
        """Fan a published alert out on its mode's channels; safe to call again to resume.

        Calls for the same alert run one at a time in this process (one deliverer per alert).
        """
        with self._locks_guard:
            lock = self._delivery_locks.setdefault(alert_id, threading.Lock())
        with lock:
            return self._deliver(alert_id)

    def _deliver(self, alert_id: str) -> DeliverySummary:
        row = self.get(alert_id)
        if row.published_at is None:
            raise WorkflowError(f"alert {alert_id} is not published (state {row.state})")
        alert = parse(row.cap_xml.encode())
        exercise = row.exercise or alert.status is not Status.ACTUAL
        channels = self.sandbox if exercise else self.live
        recipients = self._recipients(row)
        report = None
        if channels.sms is not None:
            if exercise and not channels.sms.sandbox:
                raise ChannelError("refusing to send an exercise over a live SMS channel")
            plan(
                self.sessions,
                alert_id=alert_id,
                channel=channels.sms.name,
                recipients=recipients,
                now=self.clock.now(),
            )
            validity = int((row.expires_at - self.clock.now()).total_seconds())
            fan = FanOut(
                self.sessions, channel=channels.sms, now=self.clock.now, workers=self.fanout_workers
            )
            bodies = {"ko": row.text_ko, "en": row.text_en or row.text_ko}
            report = fan.run(alert_id=alert_id, bodies=bodies, validity_s=max(validity, 1))
        posts: dict[str, list[str]] = {}
        for channel in channels.social:
            for lang, text in (("ko", row.text_ko), ("en", row.text_en)):
                if text:
                    post = BroadcastPost(
                        alert_id, lang, text, f"{self.base_url}/alerts/{alert_id}", exercise
                    )
                    posts[f"{channel.name}:{lang}"] = channel.post(post)
        return DeliverySummary(
            alert_id=alert_id,
            exercise=exercise,
            recipients=len(recipients),
            sms=report,
            social_posts=posts,
            cell_broadcast=self._cell_broadcast(row, alert),
        )

    def record_receipt(self, params: dict[str, str]) -> ReceiptOutcome:
        """Record one verified status callback; emit it on ``alert.deliveries`` if applied."""
        now = self.clock.now()
        with self.sessions() as session:
            begin_write(session)
            outcome = record_status(session, params=params, at=now)
            session.commit()
            row = None
            if outcome.applied and self.sink is not None:
                query = select(DeliveryRow).where(DeliveryRow.provider_id == outcome.provider_id)
                row = session.scalars(query).first()
        if row is not None and self.sink is not None:
            self.sink(
                AlertDelivery(
                    id=f"{row.alert_id}.{row.id}.{outcome.status}",
                    alert_id=row.alert_id,
                    channel=row.channel,
                    recipient_masked=mask_phone(row.recipient),
                    status=outcome.status,
                    provider_id=outcome.provider_id,
                    at=now,
                )
            )
        return outcome

    def delivery_counts(self, alert_id: str) -> dict[str, int]:
        """Deliveries of an alert by state and by receipt status."""
        with self.sessions() as session:
            rows = session.execute(
                select(DeliveryRow.state, DeliveryRow.receipt_status).where(
                    DeliveryRow.alert_id == alert_id
                )
            ).all()
        counts: dict[str, int] = {}
        for state, receipt in rows:
            counts[state] = counts.get(state, 0) + 1
            key = f"receipt:{receipt or 'none'}"
            counts[key] = counts.get(key, 0) + 1
        return counts
