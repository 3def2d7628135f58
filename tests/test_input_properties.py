"""Property-based tests (Hypothesis): generated input against the typed-number parsers, the
alert validator and ingest view, and every query parameter of the api/* list endpoints.

Invariants: no input gives a 5xx; normalising is idempotent; every typed form of a valid number
normalises to the same number.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.model import validate_alert
from alerts.signing import signed_headers
from store.phones import InvalidPhone, normalize_code, normalize_mobile
from tests.alerts.conftest import SOURCE, SOURCE_KEY, alert_body
from tests.test_hostile_input import LISTS

# Requests through the app share one function-scoped client across examples; the property holds
# per request, so the shared state is harmless.
WEB = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
SEPARATORS = [" ", "-", "　", "－", "—", "‐", "·", ".", "\t"]

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


COUNTRY_PREFIXES = ("", "+86", "+86 ", "0086", "0086 ", "86", "＋８６ ")


@st.composite
def typed_forms(draw, number: str, prefixes: tuple[str, ...] = COUNTRY_PREFIXES) -> str:
    """How a person might type ``number``: prefix, separators anywhere, some digits full-width."""
    prefix = draw(st.sampled_from(prefixes))
    out = []
    for ch in prefix + number:
        out.append(ch.translate(FULL_WIDTH) if draw(st.booleans()) else ch)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


@given(mobiles.flatmap(lambda n: st.tuples(st.just(n), typed_forms(n))))
def test_every_typed_form_of_a_number_normalises_to_that_number(case):
    number, typed = case
    assert normalize_mobile(typed) == number


@given(st.text(max_size=80))
def test_normalising_a_number_is_idempotent_and_only_refuses_with_invalid_phone(text):
    try:
        once = normalize_mobile(text)
    except InvalidPhone:
        return
    assert normalize_mobile(once) == once
    assert once.isascii() and len(once) == 11


@given(st.from_regex(r"[0-9]{6}", fullmatch=True).flatmap(
    lambda code: st.tuples(st.just(code), typed_forms(code, prefixes=("",)))))
def test_every_typed_form_of_a_code_normalises_to_that_code(case):
    code, typed = case
    assert normalize_code(typed) == code


@given(st.text(max_size=80))
def test_normalising_a_code_is_idempotent(text):
    once = normalize_code(text)
    if once is not None:
        assert normalize_code(once) == once and once.isascii()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
alert_like = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("alert_id", "phone", "fraud_type", "channel", "counterpart",
                                "risk_level", "detected_at", "source"), json_values))


@given(st.one_of(json_values, alert_like))
def test_the_alert_validator_answers_every_value_with_an_alert_or_field_errors(raw):
    alert, errors = validate_alert(raw, fraud_types={"police"}, source=SOURCE, now=time.time())
    assert (alert is None) != (errors == [])
    assert all(isinstance(e.field, str) and e.error for e in errors)


@st.composite
def alert_documents(draw):
    """Mostly well-formed alerts with one field replaced by anything, singly or in batches."""
    def one():
        body = alert_body(draw(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)))
        if draw(st.booleans()):
            body[draw(st.sampled_from(sorted(body)))] = draw(json_values)
        return body
    shape = draw(st.sampled_from(["one", "list", "wrapped", "anything"]))
    if shape == "one":
        return one()
    if shape == "list":
        return [one() for _ in range(draw(st.integers(0, 4)))]
    if shape == "wrapped":
        return {"alerts": [one() for _ in range(draw(st.integers(0, 3)))]}
    return draw(json_values)


@WEB
@given(alert_documents())
def test_the_ingest_view_never_answers_5xx(client, document):
    raw = json.dumps(document).encode()
    headers = signed_headers(SOURCE, SOURCE_KEY, raw, time.time(), secrets.token_hex(8))
    response = client.post("/api/v1/alerts", data=raw, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)


query_values = st.one_of(st.text(max_size=30), st.integers().map(str),
                         st.floats(allow_nan=True).map(str),
                         st.from_regex(r"-?[0-9]{1,25}(-[0-9]{0,25})?", fullmatch=True),
                         st.from_regex(r"[0-9]{1,15}:[a-z0-9]{0,8}", fullmatch=True))

# Free-text filters besides the paging parameters of LISTS; every api/* GET that reads a
# query parameter is here or in LISTS.
FILTERS = {"/api/v1/alerts": ("station",), "/api/v1/alerts/urgent": ("station",),
           "/api/v1/alerts/callbacks": ("station",), "/api/v1/audit": ("actor", "action"),
           "/api/v1/registration/stats": ("station",)}
EVERY_PARAMETER = [(path, names + FILTERS.get(path, ())) for path, names in LISTS] + [
    ("/api/v1/risk", ("value",)), ("/api/v1/stations", ("station",)),
    ("/api/v1/communities", ("station",)), ("/api/v1/officers", ("station",))]


@pytest.mark.parametrize("path,names", EVERY_PARAMETER)
def test_no_query_parameter_value_gives_a_5xx(app, login_as, path, names):
    app.url_map.bind("localhost").match(path, method="GET")  # a renamed route fails here
    admin = login_as("admin")

    @WEB
    @given(st.dictionaries(st.sampled_from(names), query_values, min_size=1))
    def check(query):
        response = admin.get(path, query_string=query)
        assert response.status_code < 500, (query, response.get_data(as_text=True))
        if response.status_code == 400:
            assert response.get_json()["field"] in query

    check()
