"""application/graphql-response+json negotiation and request-error status codes."""

import pytest

from gateway.security.negotiation import GRAPHQL_RESPONSE, JSON, media_type, shape


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("text/html", JSON),
    ],
)
def test_media_type(accept, media):
    assert media_type(accept) == media


VALIDATION = {"data": None, "errors": [{"message": "x", "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}
FORBIDDEN = {"data": None, "errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]}
FIELD_ERROR = {"data": None, "errors": [{"message": "x", "path": ["stations"], "extensions": {"code": "X"}}]}
PARTIAL = {"data": {"a": 1}, "errors": [{"message": "x", "extensions": {"code": "OPERATOR_UNAVAILABLE"}}]}


def test_request_errors_are_4xx_without_data_under_the_new_media_type():
    assert shape(VALIDATION, GRAPHQL_RESPONSE) == ({"errors": VALIDATION["errors"]}, 400)
    assert shape(FORBIDDEN, GRAPHQL_RESPONSE)[1] == 403


@pytest.mark.parametrize("response", [FIELD_ERROR, PARTIAL, {"data": {"a": 1}}])
def test_executed_responses_stay_200(response):
    assert shape(response, GRAPHQL_RESPONSE) == (response, 200)


def test_legacy_json_is_always_200_with_data():
    assert shape(VALIDATION, JSON) == (VALIDATION, 200)
