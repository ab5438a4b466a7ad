"""Warning templates, each with its prepared cancellation (a Hawaii 2018 lesson).

A template fixes what an operator should not improvise under stress: the CAP category,
severity, urgency, certainty and response, the Korean and English wording of the
instruction, and the wording of the cancellation that retracts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.cap import Category, Certainty, ResponseType, Severity, Urgency
from alerts.errors import WorkflowError


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    category: Category
    event_ko: str
    event_en: str
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    response: ResponseType
    instruction_ko: str
    instruction_en: str
    cancel_ko: str
    cancel_en: str

    @property
    def evacuation(self) -> bool:
        return self.response is ResponseType.EVACUATE


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            key="fire_smoke",
            category=Category.FIRE,
            event_ko="화재 연기",
            event_en="Fire smoke",
            severity=Severity.SEVERE,
            urgency=Urgency.IMMEDIATE,
            certainty=Certainty.OBSERVED,
            response=ResponseType.SHELTER,
            instruction_ko="창문을 닫고 외출을 자제하세요.",
            instruction_en="Close windows and stay indoors.",
            cancel_ko="앞서 보낸 화재 연기 경보를 취소합니다. 평소대로 생활하세요.",
            cancel_en="The earlier fire smoke warning is cancelled. Resume normal activity.",
        ),
        Template(
            key="evacuation",
            category=Category.SAFETY,
            event_ko="대피 명령",
            event_en="Evacuation order",
            severity=Severity.EXTREME,
            urgency=Urgency.IMMEDIATE,
            certainty=Certainty.OBSERVED,
            response=ResponseType.EVACUATE,
            instruction_ko="즉시 대피소로 대피하세요.",
            instruction_en="Evacuate to the nearest shelter now.",
            cancel_ko="앞서 보낸 대피 명령을 취소합니다. 대피하지 않아도 됩니다.",
            cancel_en="The earlier evacuation order is cancelled. No need to evacuate.",
        ),
        Template(
            key="flood",
            category=Category.MET,
            event_ko="침수 위험",
            event_en="Flood risk",
            severity=Severity.SEVERE,
            urgency=Urgency.EXPECTED,
            certainty=Certainty.LIKELY,
            response=ResponseType.AVOID,
            instruction_ko="하천변과 지하차도 통행을 피하세요.",
            instruction_en="Avoid riversides and underpasses.",
            cancel_ko="앞서 보낸 침수 위험 경보를 취소합니다.",
            cancel_en="The earlier flood risk warning is cancelled.",
        ),
        Template(
            key="hazmat",
            category=Category.CBRNE,
            event_ko="유해물질 누출",
            event_en="Hazardous material leak",
            severity=Severity.SEVERE,
            urgency=Urgency.IMMEDIATE,
            certainty=Certainty.OBSERVED,
            response=ResponseType.SHELTER,
            instruction_ko="실내로 대피해 창문을 닫으세요.",
            instruction_en="Go indoors and close windows.",
            cancel_ko="앞서 보낸 유해물질 누출 경보를 취소합니다.",
            cancel_en="The earlier hazardous material warning is cancelled.",
        ),
        Template(
            key="safety_notice",
            category=Category.SAFETY,
            event_ko="안전 안내",
            event_en="Safety notice",
            severity=Severity.MINOR,
            urgency=Urgency.EXPECTED,
            certainty=Certainty.LIKELY,
            response=ResponseType.MONITOR,
            instruction_ko="안내에 따라 주세요.",
            instruction_en="Follow official guidance.",
            cancel_ko="앞서 보낸 안전 안내를 취소합니다.",
            cancel_en="The earlier safety notice is cancelled.",
        ),
    )
}


def get_template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError as err:
        known = ", ".join(sorted(TEMPLATES))
        raise WorkflowError(f"unknown template {key!r}; known templates: {known}") from err


def template_for_event(event: str) -> Template:
    """The template whose Korean or English event matches ``event``; else the safety notice."""
    wanted = event.strip().lower()
    for template in TEMPLATES.values():
        if wanted in (template.event_ko.lower(), template.event_en.lower(), template.key):
            return template
    return TEMPLATES["safety_notice"]
