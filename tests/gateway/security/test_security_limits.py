"""Query limits refuse documents before execution, with stable codes, once per document."""

import pytest

from gateway.security import limits as limits_module
from gateway.security.limits import QueryLimits, check_batch
from resolvers.schema import build_schema

NEAR = "near: {lat: 30.27, lon: 120.15}"


async def run(query: str, limits: QueryLimits | None = None, variables=None):
    return await build_schema(limits).execute(query, variable_values=variables)


def codes(result) -> list[str]:
    return [e.extensions["code"] for e in result.errors or []]


def nested(depth: int) -> str:
    """A query ``depth`` levels deep: node → connectors → station → connectors → …"""
    path = ["connectors" if level % 2 == 0 else "station" for level in range(depth - 2)]
    inner = "id"
    for name in reversed(path):
        inner = f"{name} {{ {inner} }}"
    return f'{{ node(id: "x") {{ ... on Station {{ {inner} }} }} }}'


async def test_a_query_30_levels_deep_is_refused():
    result = await run(nested(30))
    assert result.data is None
    assert codes(result) == ["MAX_DEPTH_EXCEEDED"]
    assert result.errors[0].extensions["depth"] == 30


async def test_depth_at_the_limit_is_not_refused_for_depth():
    result = await run(nested(12), QueryLimits(max_cost=10**30))
    assert "MAX_DEPTH_EXCEEDED" not in codes(result)


async def test_a_thousand_aliases_are_refused_with_one_error():
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }"
    result = await run(query)
    assert result.data is None
    assert codes(result) == ["MAX_ALIASES_EXCEEDED"]


async def test_too_many_tokens_stop_the_parser():
    query = "{ " + " ".join(f"a{i}: operators {{ id }}" for i in range(1000)) + " }"
    result = await run(query, QueryLimits(max_aliases=10_000))
    assert codes(result) == ["MAX_TOKENS_EXCEEDED"]


async def cost_of(query: str, variables=None) -> int:
    result = await run(query, QueryLimits(max_cost=1), variables)
    assert codes(result) == ["MAX_COST_EXCEEDED"], result.errors
    return result.errors[0].extensions["cost"]


PAGE = "{ totalCount edges { node { name connectors { status } } } }"


@pytest.mark.parametrize(
    ("arguments", "cost"),
    [
        ("first: 10", 1 + 10 * (1 + (1 + (1 + 1 + (1 + 10 * 1))))),  # 151: edges sized by `first`
        ("", 301),  # the argument's default, 20
        ("first: $n", 1501),  # a variable: the largest page
        ("first: 100000", 1501),  # clamped to the largest page, which the resolver enforces
    ],
)
async def test_cost_multiplies_by_page_and_list_sizes(arguments, cost):
    header = "query($n: Int!)" if "$n" in arguments else "query"
    query = f"{header} {{ stations({NEAR} {arguments}) {PAGE} }}"
    assert await cost_of(query, {"n": 5}) == cost


async def test_a_costly_query_is_refused_and_a_normal_page_is_not():
    big = f"{{ stations({NEAR}, first: 100) {PAGE} a: stations({NEAR}, first: 100) {PAGE} }}"
    assert codes(await run(big, QueryLimits(max_cost=2_000))) == ["MAX_COST_EXCEEDED"]
    assert await cost_of(f"{{ stations({NEAR}, first: 100) {PAGE} }}") <= QueryLimits().max_cost


async def test_a_fragment_bomb_is_costed_in_linear_time(monkeypatch: pytest.MonkeyPatch):
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = f"{{ ...F0 }} {fragments} fragment F40 on Query {{ operators {{ id }} }}"
    # Counted, not timed: each of the 41 fragments is walked at most once for depth and once per
    # sizing context for cost; without memoisation the walk would enter them 2**41 times.
    entered = 0
    enter = limits_module._QueryLimitsRule._enter

    def counting(self, name):
        nonlocal entered
        entered += 1
        assert entered <= 41 * 3, "fragments are walked again and again: the cost is not linear"
        return enter(self, name)

    monkeypatch.setattr(limits_module._QueryLimitsRule, "_enter", counting)
    result = await run(query)
    assert codes(result) == ["MAX_COST_EXCEEDED"]
    assert result.errors[0].extensions["cost"] == 2**40 * 11


async def test_fragment_cycles_are_reported_not_crashed_on():
    result = await run("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert result.data is None
    assert codes(result) and "INTERNAL_SERVER_ERROR" not in codes(result)


async def test_introspection_and_suggestions_are_off_by_default():
    result = await run("{ __schema { types { name } } }")
    assert set(codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection has been disabled" in result.errors[0].message
    misspelt = await run("{ operatorz { id } }")
    assert "Did you mean" not in misspelt.errors[0].message
    assert (await run("{ __typename }")).data == {"__typename": "Query"}


async def test_introspection_and_suggestions_when_open():
    limits = QueryLimits(introspection=True, field_suggestions=True)
    assert (await run("{ __schema { queryType { name } } }", limits)).data
    assert "Did you mean" in (await run("{ operatorz { id } }", limits)).errors[0].message


async def test_the_limits_run_once_per_document(monkeypatch):
    calls = []
    original = limits_module._QueryLimitsRule.enter_operation_definition

    def counting(self, node, *args):
        calls.append(node)
        return original(self, node, *args)

    monkeypatch.setattr(limits_module._QueryLimitsRule, "enter_operation_definition", counting)
    schema = build_schema()
    for _ in range(3):
        assert (await schema.execute("query Once { __typename }")).data == {"__typename": "Query"}
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([], "1 to 3"),
        ([{"query": "{ a }"}] * 4, "1 to 3"),
        ([1, 2], "JSON object"),
        ([{"query": 5}], "`query`"),
        ([{"query": "{ a }", "variables": []}], "`variables`"),
    ],
)
def test_bad_batches_are_refused(batch, message):
    with pytest.raises(ValueError, match=message):
        check_batch(batch, 3)
    check_batch([{"query": "{ a }"}] * 3, 3)
