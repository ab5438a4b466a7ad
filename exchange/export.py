"""An incident of the record as a NENA EIDO (NENA-STA-021.1, JSON form).

Read-only over dispatch's record (incidents, calls, units, timeline, commands: through
``dispatch.queries``) and exchange's own tables (foreign incidents). What goes where:

- incident -> ``incidentComponent`` (type through :mod:`exchange.mapping`, status, priority,
  gu as beat);
- each call -> ``callComponent`` with its caller as a ``personComponent`` (role Caller) and a
  ``callbackComponent`` (``tel:`` URI), its position as a ``locationComponent`` (Caller);
- the incident position -> ``locationComponent`` (Incident), PIDF-LO with a geodetic point and
  a civic address (country KR, A1 Seoul, A2 the gu);
- each assigned unit -> ``emergencyResourceComponent`` (status, ETA from its route) with its
  crew as an agent; units grouped by station -> ``dispatchComponent``;
- every timeline line -> ``notesComponent``;
- agencies: this centre and each station sending units; agents: the centre's automaton, each
  dispatcher named on the timeline, each crew;
- correlation: a merged duplicate and the incident it went into carry a REPLACED/REPLACING
  ``mergeComponent`` pair; an unlinked call leaves an UNLINK ``linkComponent`` on both.
- an incident that came from a partner keeps the partner's incident id (when it was opened by
  that import), calls, agencies, agents, people, callbacks and locations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import incident_id_for, queries
from exchange import mapping
from exchange.link_store import ForeignIncidentRow
from goldentime.contracts import Incident, IncidentStatus, IncidentType
from goldentime.contracts.dispatch import UnitStatus
from goldentime.contracts.routing import RoutedUnitState
from goldentime.errors import GoldenTimeError

EIDO_VERSION = "1.0"
CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
# The prologue components a partner's EIDO may carry that we keep on re-export.
KEPT_FOREIGN = (
    "agencyComponent",
    "agentComponent",
    "callComponent",
    "callbackComponent",
    "personComponent",
    "locationComponent",
    "additionalDataComponent",
    "notesComponent",
)


class IncidentNotFoundError(GoldenTimeError):
    """No incident with that id in the record."""


@dataclass(frozen=True, slots=True)
class Centre:
    """This control centre as an EIDO agency."""

    agency_id: str  # a domain, e.g. "seoul.119.kr"
    name: str

    def incident_urn(self, incident_id: str) -> str:
        return f"urn:emergency:uid:incidentid:{incident_id}:{self.agency_id}"

    def call_urn(self, call_id: str) -> str:
        return f"urn:emergency:uid:callid:{call_id}:{self.agency_id}"

    def urn(self, kind: str, local_id: str) -> str:
        return f"urn:goldentime:{kind}:{local_id}:{self.agency_id}"

    @property
    def automaton(self) -> str:
        return f"goldentime@{self.agency_id}"


def ts(value: datetime) -> str:
    """RFC 3339 with milliseconds and offset."""
    return value.isoformat(timespec="milliseconds")


def _ref(target: str) -> dict[str, str]:
    return {"$ref": target}


def pidf_lo(*, lat: float, lon: float, gu: str | None, entity: str, label: str = "") -> str:
    """A PIDF-LO document (RFC 4119/5491/5139) with a geodetic point and a civic address."""
    civic = "<country>KR</country><A1>서울특별시</A1>"
    if gu:
        civic += f"<A2>{escape(gu)}</A2>"
    if label:
        civic += f"<LOC>{escape(label)}</LOC>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
        'xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" '
        f'entity="{escape(entity)}"><dm:device id="location"><gp:geopriv><gp:location-info>'
        f'<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat:.7f} {lon:.7f}</gml:pos>'
        f"</gml:Point><ca:civicAddress>{civic}</ca:civicAddress></gp:location-info>"
        "<gp:method>Manual</gp:method></gp:geopriv></dm:device></presence>"
    )


class _Builder:
    def __init__(self, centre: Centre, updated: datetime) -> None:
        self.centre = centre
        self.updated = ts(updated)
        self.components: dict[str, list[dict[str, Any]]] = {}
        self._ids: set[str] = set()

    def prologue(self, component_id: str, *, at: datetime | str | None = None) -> dict[str, Any]:
        stamp = at if isinstance(at, str) else ts(at) if at is not None else self.updated
        return {
            "$id": component_id,
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": _ref(self.centre.agency_id),
            "updatedByAgentReference": _ref(self.centre.automaton),
        }

    def urn(self, kind: str, local_id: str) -> str:
        return self.centre.urn(kind, local_id)

    def add(self, kind: str, component: dict[str, Any]) -> None:
        if component["$id"] in self._ids:
            return
        self._ids.add(component["$id"])
        self.components.setdefault(kind, []).append(component)

    def agent(self, agent_id: str, *, role: str, agency: str, at: datetime | None = None) -> str:
        self.add(
            "agentComponent",
            {
                **self.prologue(agent_id, at=at),
                "agentRoleRegistryText": [role],
                "agencyReference": _ref(agency),
            },
        )
        return agent_id

    def agency(self, agency_id: str, *, roles: list[str], name: str = "") -> str:
        component: dict[str, Any] = {
            **self.prologue(agency_id),
            "agencyRoleDescriptionRegistryText": roles,
            "agencyType": ["fire", "ems"],
        }
        if name:
            component["agencyJcard"] = f"BEGIN:VCARD\nVERSION:4.0\nFN:{name}\nEND:VCARD"
        self.add("agencyComponent", component)
        return agency_id


def export_incident(session: Session, incident_id: str, *, centre: Centre) -> dict[str, Any]:
    """The EIDO of one incident; raises IncidentNotFoundError."""
    view = queries.incident_view(session, incident_id)
    if view is None:
        raise IncidentNotFoundError(f"no incident {incident_id}")
    row = view.record
    b = _Builder(centre, row.updated_at)
    b.agency(centre.agency_id, roles=["CallReceiving", "Dispatching"], name=centre.name)
    b.agent(centre.automaton, role="Automaton", agency=centre.agency_id)
    foreign = _foreign_documents(session, [c.id for c in view.calls])
    opened_by_import = bool(view.calls) and any(
        incident_id_for(call_id) == row.id for call_id in foreign
    )
    tracking_id = centre.incident_urn(row.id)
    if opened_by_import:
        first = min(foreign, key=lambda call_id: incident_id_for(call_id) != row.id)
        tracking_id = str(foreign[first].get("$id") or tracking_id)
    incident_location = b.urn("location", row.id)
    b.add(
        "locationComponent",
        {
            **b.prologue(incident_location),
            "locationTypeDescriptionRegistryText": "Incident",
            "locationByValue": pidf_lo(
                lat=row.lat, lon=row.lon, gu=row.gu, entity=tracking_id, label=row.description
            ),
            "locationDescriptionText": f"{row.lat:.7f},{row.lon:.7f}",
        },
    )
    people: list[dict[str, str]] = []
    for call in view.calls:
        if call.id in foreign:
            continue  # the partner's own components stand for it (below)
        people.append(_ref(_call(b, call, priority=row.priority)))
    notes = [_ref(n) for n in _notes(b, session, row.id)]
    resources = _units(b, view.units, incident_location)
    for received in foreign.values():
        _keep_foreign(b, received)
    incident_type = IncidentType(row.type)
    incident_status = IncidentStatus(row.status)
    incident: dict[str, Any] = {
        **b.prologue(tracking_id),
        "incidentTypeCommonRegistryText": mapping.registry_type(incident_type),
        "incidentTypeInternalCode": incident_type.value,
        "incidentTypeInternalText": mapping.KOREAN_NAMES[incident_type],
        "incidentStatusCommonRegistryText": [mapping.INCIDENT_STATUS[incident_status]],
        "incidentStatusInternalText": [incident_status.value],
        "internalIncidentId": row.id,
        "incidentPriorityInternalText": str(row.priority),
        "incidentCommonPriorityNumber": row.priority,
        "locationReference": [_ref(incident_location)],
        "personReference": people,
        "notesReference": notes,
        "agentReference": [_ref(centre.automaton)],
    }
    if row.gu:
        incident["beatOrDispatchGroupText"] = row.gu
    document: dict[str, Any] = {
        **b.prologue(tracking_id),
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"goldentime.{centre.agency_id}",
        "incidentComponent": incident,
    }
    merges = _merges(b, session, row, centre)
    links = _unlinks(b, session, row.id, centre)
    if not opened_by_import:
        for document_of in foreign.values():
            if document_of.get("$id"):
                links.append(
                    {
                        **b.prologue(b.urn("link", f"{row.id}:{document_of['$id']}")),
                        "incidentTrackingIdentifier": str(document_of["$id"]),
                        "linkDirectionCode": "RELATED",
                        "transactionReasonText": "partner incident joined by correlation",
                    }
                )
    if merges:
        document["mergeComponent"] = merges
    if links:
        document["linkComponent"] = links
    if resources:
        document["emergencyResourceComponent"] = resources
    document.update(b.components)
    document["@context"] = CONTEXT
    return document


def _call(b: _Builder, call: queries.CallView, *, priority: int) -> str:
    centre = b.centre
    call_urn = centre.call_urn(call.id)
    person = b.urn("person", call.id)
    location = b.urn("location", call.id)
    b.add(
        "locationComponent",
        {
            **b.prologue(location, at=call.received_at),
            "locationTypeDescriptionRegistryText": "Caller",
            "locationByValue": pidf_lo(lat=call.lat, lon=call.lon, gu=None, entity=call_urn),
        },
    )
    component: dict[str, Any] = {
        **b.prologue(call_urn, at=call.received_at),
        "standardPrimaryCallType": "emergency",
        "localCallType": call.source,
        "direction": "incoming",
        "priorityIdentifier": mapping.CALL_PRIORITY.get(priority, "normal"),
        "callStartTimestamp": ts(call.received_at),
        "answerDate": ts(call.received_at),
        "callStateRegistryText": "callAnswered",
        "agentReference": [_ref(centre.automaton)],
        "locationReference": [_ref(location)],
        "personReference": [_ref(person)],
    }
    caller: dict[str, Any] = {
        **b.prologue(person, at=call.received_at),
        "personIncidentRoleRegistryText": ["Caller"],
        "callIdentifier": [call_urn],
        "locationReference": [_ref(location)],
    }
    if call.caller:
        callback = b.urn("callback", call.id)
        digits = "".join(ch for ch in call.caller if ch.isdigit() or ch == "+")
        uris = [f"tel:{digits}"] if digits else []
        b.add(
            "callbackComponent",
            {
                **b.prologue(callback, at=call.received_at),
                "callBackInformationUri": uris,
                "deviceContactHeader": call.caller,
            },
        )
        component["callBackReference"] = _ref(callback)
        caller["callBackReference"] = _ref(callback)
    if call.description:
        note = b.urn("note", f"call:{call.id}")
        b.add(
            "notesComponent",
            {
                **b.prologue(note, at=call.received_at),
                "notesActionComments": escape(call.description),
            },
        )
        component["notesReference"] = [_ref(note)]
    b.add("callComponent", component)
    b.add("personComponent", caller)
    return person


def _notes(b: _Builder, session: Session, incident_id: str) -> list[str]:
    ids = []
    for entry in queries.timeline_lines(session, incident_id):
        note = b.urn("note", f"{incident_id}:{entry.seq}")
        component: dict[str, Any] = {
            **b.prologue(note, at=entry.at),
            "notesActionComments": f"<p>[{escape(entry.kind)}] {escape(entry.detail)}</p>",
        }
        if entry.actor and entry.actor != "system":
            component["agentReference"] = _ref(
                b.agent(
                    f"{entry.actor}@{b.centre.agency_id}",
                    role="Dispatcher",
                    agency=b.centre.agency_id,
                    at=entry.at,
                )
            )
        b.add("notesComponent", component)
        ids.append(note)
    return ids


def _units(b: _Builder, units: Iterable[RoutedUnitState], destination: str) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    by_station: dict[str, list[str]] = {}
    for unit in units:
        station = b.agency(
            f"{unit.station_id}.{b.centre.agency_id}",
            roles=["Responding"],
            name=unit.station_name,
        )
        crew = b.agent(f"crew.{unit.id}@{b.centre.agency_id}", role="Responder", agency=station)
        resource_id = b.urn("unit", unit.id)
        position = b.urn("location", f"unit:{unit.id}")
        b.add(
            "locationComponent",
            {
                **b.prologue(position, at=unit.updated_at),
                "locationTypeDescriptionRegistryText": "Unit",
                "locationByValue": pidf_lo(lat=unit.lat, lon=unit.lon, gu=None, entity=resource_id),
            },
        )
        resource: dict[str, Any] = {
            **b.prologue(resource_id, at=unit.updated_at),
            "emergencyResourceTypeCommonRegistryText": mapping.RESOURCE_TYPES.get(
                unit.kind, "Other"
            ),
            "emergencyResourceTypeInternalText": unit.kind,
            "emergencyResourceName": unit.name,
            "resourceAttributeRegistryText": [],
            "primaryUnitStatusRegistryText": mapping.UNIT_STATUS[unit.status],
            "secondaryUnitStatusRegistryText": [],
            "unitStatusInternal": [unit.status.value],
            "agentReference": [_ref(crew)],
            "unitLocationReference": _ref(position),
            "unitDestinationReference": _ref(destination),
        }
        eta = _eta(unit)
        if eta is not None:
            resource["eta"] = ts(eta)
        resources.append(resource)
        by_station.setdefault(station, []).append(resource_id)
    for station, members in by_station.items():
        b.add(
            "dispatchComponent",
            {
                **b.prologue(b.urn("dispatch", station)),
                "agencyReference": _ref(station),
                "agentReference": _ref(b.centre.automaton),
                "emergencyResourceReference": [_ref(m) for m in members],
            },
        )
    return resources


def _eta(unit: RoutedUnitState) -> datetime | None:
    if unit.route is None or unit.status not in {UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE}:
        return None
    return unit.route.computed_at + timedelta(seconds=unit.route.eta_s)


def _merges(b: _Builder, session: Session, row: Incident, centre: Centre) -> list[dict[str, Any]]:
    out = []
    if row.merged_into:
        out.append(
            {
                **b.prologue(b.urn("merge", f"{row.id}>{row.merged_into}")),
                "incidentTrackingIdentifier": centre.incident_urn(row.merged_into),
                "incidentMergeDirectionCode": "REPLACED",
            }
        )
    for source_id in queries.merged_sources(session, row.id):
        out.append(
            {
                **b.prologue(b.urn("merge", f"{source_id}>{row.id}")),
                "incidentTrackingIdentifier": centre.incident_urn(source_id),
                "incidentMergeDirectionCode": "REPLACING",
            }
        )
    return out


def _unlinks(
    b: _Builder, session: Session, incident_id: str, centre: Centre
) -> list[dict[str, Any]]:
    """UNLINK links: from the old incident to each incident an unlinked call opened, and back."""
    return [
        {
            **b.prologue(b.urn("link", f"{incident_id}:{u.command_id}"), at=u.at),
            "incidentTrackingIdentifier": centre.incident_urn(u.other_incident_id),
            "linkDirectionCode": "UNLINK",
            "transactionReasonText": f"call {u.call_id} unlinked by {u.actor}",
        }
        for u in queries.unlinks_of(session, incident_id)
    ]


def _foreign_documents(session: Session, call_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not call_ids:
        return {}
    rows = session.scalars(
        select(ForeignIncidentRow).where(ForeignIncidentRow.call_id.in_(call_ids))
    )
    return {r.call_id: dict(r.document) for r in rows}


def _keep_foreign(b: _Builder, document: dict[str, Any]) -> None:
    for kind in KEPT_FOREIGN:
        for component in document.get(kind) or []:
            if isinstance(component, dict) and isinstance(component.get("$id"), str):
                b.add(kind, component)
