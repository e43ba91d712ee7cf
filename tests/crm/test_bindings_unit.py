"""Pure unit tests of the binding rules in crm/bindings.py: plan_set (S3–S5) and next_primary (D2, I4)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.crm.bindings import Wanted, next_primary, plan_set
from b24local.storage.base import Binding


def W(bound_id: int, sort: int | None = None, primary: bool = False) -> Wanted:
    return Wanted(bound_id, sort, primary)


def test_plan_set_empty() -> None:
    assert plan_set([]) == []


def test_plan_set_defaults_and_first_is_primary() -> None:
    assert plan_set([W(1), W(2)]) == [Binding(1, 10, True), Binding(2, 20, False)]


def test_plan_set_first_flagged_wins_over_order_and_sort() -> None:
    assert plan_set([W(1, 5), W(2, 50, True), W(3, 1, True)]) == [
        Binding(1, 5, False),
        Binding(2, 50, True),
        Binding(3, 1, False),
    ]


def test_plan_set_no_flag_first_element_whatever_its_sort() -> None:
    assert plan_set([W(1, 50), W(2, 10)]) == [Binding(1, 50, True), Binding(2, 10, False)]


def test_plan_set_non_positive_sort_takes_position() -> None:
    assert plan_set([W(7, 0), W(8, -3), W(9, None), W(6, 1)]) == [
        Binding(7, 10, True),
        Binding(8, 20, False),
        Binding(9, 30, False),
        Binding(6, 1, False),
    ]


def test_plan_set_duplicates_take_last_sort_keep_first_position() -> None:
    assert plan_set([W(1, 5), W(2), W(1, 40)]) == [Binding(1, 40, True), Binding(2, 20, False)]
    assert plan_set([W(1, 5), W(2), W(1)]) == [Binding(1, 30, True), Binding(2, 20, False)]
    assert plan_set([W(1), W(2), W(2, None, True)]) == [Binding(1, 10, False), Binding(2, 30, True)]
    assert plan_set([W(4), W(4), W(4)]) == [Binding(4, 30, True)]


def test_next_primary() -> None:
    assert next_primary([]) is None
    assert next_primary([Binding(5, 20, False)]) == 5
    assert next_primary([Binding(5, 20, False), Binding(3, 30, False), Binding(9, 10, False)]) == 9
    # Ties on SORT: lowest id, whatever the order given.
    assert next_primary([Binding(8, 30, False), Binding(4, 30, False), Binding(6, 30, False)]) == 4
    assert next_primary([Binding(2, 5, False), Binding(1, -7, False)]) == 1


wanted = st.builds(
    Wanted,
    st.integers(1, 6),
    st.one_of(st.none(), st.integers(-5, 60)),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(wanted, max_size=8))
def test_plan_set_properties(items: list[Wanted]) -> None:
    plan = plan_set(items)
    ids = [b.bound_id for b in plan]
    assert ids == list(dict.fromkeys(w.bound_id for w in items))  # one binding per contact, first-seen order
    if plan:
        primaries = [b.bound_id for b in plan if b.is_primary]
        assert len(primaries) == 1  # I1
        flagged = [w.bound_id for w in items if w.primary]
        assert primaries[0] == (flagged[0] if flagged else items[0].bound_id)
    for binding in plan:
        assert binding.sort > 0
        assert binding.role_id == 0
        last = max(i for i, w in enumerate(items) if w.bound_id == binding.bound_id)
        given_sort = items[last].sort
        assert binding.sort == (given_sort if given_sort is not None and given_sort > 0 else (last + 1) * 10)
