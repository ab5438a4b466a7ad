"""Whatever a partner sends, reading it either gives a valid call or refuses with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.importer import EidoRefusedError, read_eido
from goldentime.contracts import Call

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "$id",
        "lastUpdateTimeStamp",
        "incidentComponent",
        "locationComponent",
        "callComponent",
        "callbackComponent",
        "notesComponent",
    ]
)
documents = st.one_of(json_values, st.dictionaries(keys, json_values, max_size=7))


@settings(max_examples=300, deadline=None)
@given(documents)
def test_any_document_reads_as_a_valid_call_or_is_refused(document: Any) -> None:
    try:
        foreign = read_eido(
            document, partner_id="p.kr", partner_name="P", unlocated=(37.5, 127.0), now=NOW
        )
    except EidoRefusedError as refused:
        assert str(refused)
        return
    assert Call.model_validate(foreign.call.model_dump()) == foreign.call
    assert foreign.incident_id == document["$id"]
