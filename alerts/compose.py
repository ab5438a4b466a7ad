"""Compose a CAP alert from an operator's draft request: one ``<info>`` per language.

The request is validated here, at the public boundary: areas must resolve (gu/dong names,
polygon, circle), the Korean text must fit its class budget (90 for evacuation, else 157),
and exercises carry a banner in every language so test and live never look alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.areas import Gazetteer, areas_geometry, circle_area, place_area, polygon_area
from alerts.cap import Alert, Area, Info, MsgType, Scope, Status
from alerts.errors import AreaError, WorkflowError
from alerts.korean import KoreanText, check_text, sms_text
from alerts.templates import Template, get_template, template_for_event

KST = timezone(timedelta(hours=9), "KST")
SENDER = "119@seoul.goldentime.kr"
SENDER_NAME_KO = "서울종합방재센터 119"
SENDER_NAME_EN = "Seoul 119 Control Centre"
EXERCISE_BANNER = {"ko": "[훈련상황]", "en": "[EXERCISE - NOT REAL]"}
Language = Literal["ko", "en"]
DEFAULT_LANGUAGES: tuple[Language, ...] = ("ko", "en")
LANGUAGE_TAG = {"ko": "ko-KR", "en": "en-US"}


class CircleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float = Field(ge=33, le=39)
    lon: float = Field(ge=124, le=132)
    radius_km: float = Field(gt=0, le=50)


class DraftRequest(BaseModel):
    """What a supervisor asks for. Exactly who asks is never part of the body."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    template: str | None = Field(default=None, description="Template key, e.g. fire_smoke.")
    event: str | None = Field(default=None, max_length=34, description="Event, if no template.")
    headline_ko: str = Field(min_length=1, max_length=157)
    headline_en: str | None = Field(default=None, max_length=160)
    instruction_ko: str | None = Field(default=None, max_length=157)
    instruction_en: str | None = Field(default=None, max_length=300)
    gu: list[str] = Field(default_factory=list)
    dong: list[str] = Field(default_factory=list)
    polygon: list[tuple[float, float]] | None = None
    circle: CircleSpec | None = None
    languages: list[Language] = Field(default_factory=lambda: list(DEFAULT_LANGUAGES))
    exercise: bool = False
    expires_minutes: int = Field(default=120, ge=5, le=1440)
    confirm_duplicate: bool = False

    @field_validator("languages")
    @classmethod
    def _korean_first(cls, value: list[Language]) -> list[Language]:
        if "ko" not in value:
            raise ValueError("Korean (ko) is always sent; add en for English")
        return list(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class ComposedDraft:
    alert: Alert
    template: Template
    areas: list[Area]
    gu_codes: list[str]
    texts: dict[str, str]
    korean: KoreanText


def parse_request(data: object) -> DraftRequest:
    try:
        return DraftRequest.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}" for e in err.errors()
        )
        raise WorkflowError(f"invalid draft: {problems}") from err


def resolve_areas(request: DraftRequest, gazetteer: Gazetteer) -> tuple[list[Area], list[str]]:
    """CAP areas of the request and the gu codes they touch (for the cell-broadcast request)."""
    areas: list[Area] = []
    codes: list[str] = []
    for name in request.gu:
        place = gazetteer.resolve(name, kind="gu")
        areas.append(place_area(place))
        codes.append(place.code)
    for name in request.dong:
        place = gazetteer.resolve(name, kind="dong")
        areas.append(place_area(place))
        codes.append(gazetteer.resolve(place.gu_ko, kind="gu").code)
    drawn: list[Area] = []
    if request.polygon:
        drawn.append(polygon_area("지정 구역 / Drawn area", list(request.polygon)))
    if request.circle:
        c = request.circle
        desc = f"반경 {c.radius_km:g}km / {c.radius_km:g} km radius"
        drawn.append(circle_area(desc, lat=c.lat, lon=c.lon, radius_km=c.radius_km))
    if drawn:
        shape = areas_geometry(drawn)
        codes += [
            p.code for p in gazetteer.places if p.kind == "gu" and p.geometry.intersects(shape)
        ]
        if not any(p.kind == "gu" and p.geometry.intersects(shape) for p in gazetteer.places):
            raise AreaError("the drawn area does not touch Seoul")
    areas += drawn
    if not areas:
        raise AreaError("no area: give at least one gu, dong, polygon or circle")
    return areas, sorted(set(codes))


def new_identifier(now: datetime) -> str:
    return f"GT-{now.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def compose(
    request: DraftRequest,
    *,
    gazetteer: Gazetteer,
    now: datetime,
    identifier: str | None = None,
    msg_type: MsgType = MsgType.ALERT,
    references: tuple[str, ...] = (),
    base_url: str = "http://127.0.0.1:8119",
) -> ComposedDraft:
    """Build the CAP alert and the per-language short texts; raise on any bad input."""
    template = (
        get_template(request.template)
        if request.template
        else template_for_event(request.event or "")
    )
    areas, gu_codes = resolve_areas(request, gazetteer)
    now = now.astimezone(KST)  # CAP times in Seoul local time, numeric offset
    identifier = identifier or new_identifier(now)
    expires = now + timedelta(minutes=request.expires_minutes)
    headlines = {"ko": request.headline_ko, "en": request.headline_en or request.headline_ko}
    instructions = {
        "ko": request.instruction_ko or template.instruction_ko,
        "en": request.instruction_en or template.instruction_en,
    }
    custom_event = request.event if request.event and request.event != template.event_ko else None
    events = {"ko": custom_event or template.event_ko, "en": custom_event or template.event_en}
    banner = {lang: EXERCISE_BANNER[lang] if request.exercise else None for lang in ("ko", "en")}
    texts: dict[str, str] = {
        lang: sms_text(headlines[lang], instructions[lang], banner=banner[lang])
        for lang in request.languages
    }
    korean = check_text(
        texts["ko"],
        severity=template.severity,
        urgency=template.urgency,
        evacuation=template.evacuation,
    )
    infos = tuple(
        Info(
            language=LANGUAGE_TAG[lang],
            categories=(template.category,),
            event=events[lang],
            response_types=(template.response,),
            urgency=template.urgency,
            severity=template.severity,
            certainty=template.certainty,
            effective=now,
            expires=expires,
            sender_name=SENDER_NAME_KO if lang == "ko" else SENDER_NAME_EN,
            headline=" ".join(p for p in (banner[lang], headlines[lang]) if p),
            description=headlines[lang],
            instruction=instructions[lang],
            web=f"{base_url.rstrip('/')}/alerts/{identifier}.xml",
            contact="119",
            areas=tuple(areas),
        )
        for lang in request.languages
    )
    alert = Alert(
        identifier=identifier,
        sender=SENDER,
        sent=now,
        status=Status.EXERCISE if request.exercise else Status.ACTUAL,
        msg_type=msg_type,
        scope=Scope.PUBLIC,
        note="훈련 상황입니다. 실제 상황이 아닙니다. / Exercise: not a real emergency."
        if request.exercise
        else None,
        references=references,
        infos=infos,
    )
    return ComposedDraft(alert, template, areas, gu_codes, texts, korean)
