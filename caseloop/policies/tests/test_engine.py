"""The rule engine on its own: the condition language, its refusals, and evaluation against snapshots (no database)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from caseloop.policies.engine import (
    ActionFacts,
    AssetFacts,
    CaseFacts,
    ConditionError,
    CustomerFacts,
    Kind,
    Snapshot,
    compile_condition,
    evaluate,
    is_a_sentence,
    rule,
)


def facts(**values):
    return {
        k.replace("__", "."): (Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v)
        for k, v in values.items()
    }


@pytest.mark.parametrize(
    ("condition", "values", "expected"),
    [
        ('action.amount > 100 and customer.tier != "vip"', {"action__amount": 150, "customer__tier": "standard"}, True),
        ('action.amount > 100 and customer.tier != "vip"', {"action__amount": 150, "customer__tier": "vip"}, False),
        ("action.amount > 100", {"action__amount": 100}, False),
        ("action.amount >= 100", {"action__amount": 100}, True),
        ("action.amount > 99.99", {"action__amount": Decimal("100.00")}, True),
        ('"legal-hold" in case.tags', {"case__tags": frozenset({"legal-hold", "vip"})}, True),
        ('"legal-hold" not in case.tags', {"case__tags": frozenset({"vip"})}, True),
        ('action.to_status in ["solved", "closed"]', {"action__to_status": "closed"}, True),
        ('action.to_status in ["solved", "closed"]', {"action__to_status": "open"}, False),
        ("action.amount > customer.orders_total * 0.5", {"action__amount": 60, "customer__orders_total": 100}, True),
        ("action.amount - 10 <= 5 * 2", {"action__amount": 20}, True),
        ("-action.amount < -5", {"action__amount": 6}, True),
        ("not asset.in_warranty", {"asset__in_warranty": False}, True),
        ("asset.in_warranty == false or asset.present == false", {"asset__present": False}, True),
        ("(action.amount > 10 or action.amount < 1) and not (action.amount == 50)", {"action__amount": 50}, False),
        ("action.amount / 0 == null", {"action__amount": 5}, True),
        ("customer.tier == 'vip'", {"customer__tier": "vip"}, True),
        ('customer.tier == "say \\"hi\\""', {"customer__tier": 'say "hi"'}, True),
        # an unknown value (no asset on the case) never trips an ordering or arithmetic rule
        ("asset.warranty_days_left < 30", {}, False),
        ("asset.warranty_days_left + 1 > 0", {}, False),
        ("asset.model == null", {}, True),
        ("not (asset.warranty_days_left < 30)", {}, True),
    ],
)
def test_conditions_evaluate_exactly(condition, values, expected):
    assert compile_condition(condition).test(facts(**values)) is expected


@pytest.mark.parametrize(
    ("condition", "message", "position"),
    [
        ("", "cannot be empty", 0),
        ("action.amount", "must be true or false", 0),
        ('action.amount > "100"', "'>' compares numbers, not a string", 16),
        ("action.amont > 1", "unknown name 'action.amont'", 0),
        ("customer.tier == 3", "cannot compare a string with a number", 14),
        ("action.amount > 1 and", "expected a value, found the end", 21),
        ("(action.amount > 1", "expected ')'", 18),
        ("action.amount > 1 action.amount", "unexpected 'action.amount'", 18),
        ("action.amount ~ 1", "unexpected '~'", 14),
        ('"x" in customer.tier', "'in' needs a list", 4),
        ('"x" in [1, 2]', "a string is never in a list of numbers", 4),
        ('action.amount in ["a", 1]', "one type of value", 17),
        ("action.amount in [action.amount]", "numbers or strings written out", 18),
        ("not action.amount", "'not' joins comparisons", 4),
        ("action.amount > 1 and 2", "'and' joins comparisons, not a number", 22),
        ('customer.tier + "x" == "y"', "'+' works on numbers", 0),
        ("__import__('os').system('x') == 1", "unexpected '.'", 16),
        ("action.amount.__class__ == 1", "unknown name 'action.amount.__class__'", 0),
        ("(" * 50 + "action.amount > 1" + ")" * 50, "nested too deeply", 40),
        ("not " * 45 + "action.amount > 1", "nested too deeply", 160),
        ("1" + " + 1" * 250 + " > 0", "at most 200 operators", 802),
    ],
)
def test_a_bad_condition_says_what_and_where(condition, message, position):
    with pytest.raises(ConditionError) as refused:
        compile_condition(condition)
    assert message in refused.value.message
    assert refused.value.position == position


def test_a_condition_is_never_evaluated_as_python():
    # the dangerous strings only ever reach the tokenizer; nothing of them runs
    for text in ("__import__('os')", "open('/etc/passwd')", "[x for x in ()]", "lambda: 1", "a if b else c"):
        with pytest.raises(ConditionError):
            compile_condition(text)


def test_a_condition_remembers_the_names_it_reads():
    condition = compile_condition('action.amount > 5 and (customer.tier == "vip" or "x" in case.tags)')
    assert condition.names == {"action.amount", "customer.tier", "case.tags"}


def _snapshot(kind="refund", amount="120", tier="standard", tags=(), warranty_left=None):
    return Snapshot(
        action=ActionFacts(kind=kind, amount=Decimal(amount), currency="USD"),
        case=CaseFacts(id=10001, status="open", priority="normal", channel="email", tags=frozenset(tags)),
        customer=CustomerFacts(tier=tier, orders_total=Decimal("100.00")),
        asset=AssetFacts(
            present=warranty_left is not None,
            warranty_days_left=warranty_left,
            in_warranty=None if warranty_left is None else warranty_left >= 0,
        ),
    )


RULES = [
    rule(
        id=1,
        name="No refund above what was paid",
        kind="integrity",
        applies_to=["refund"],
        condition="action.amount > customer.orders_total",
        explanation="We refund at most what was paid.",
    ),
    rule(
        id=2,
        name="Refunds over 50 for standard customers",
        kind="guideline",
        applies_to=["refund", "credit"],
        condition='action.amount > 50 and customer.tier == "standard"',
        explanation="Offer a credit first.",
    ),
    rule(
        id=3,
        name="Legal hold",
        kind="integrity",
        applies_to=["status_change", "reopen"],
        condition='"legal-hold" in case.tags',
        explanation="Legal must release the case first.",
    ),
]


def test_integrity_rules_refuse_and_guidelines_ask_for_a_reason():
    verdict = evaluate(RULES, _snapshot(amount="120"))
    assert [r.id for r in verdict.refusals] == [1] and [r.id for r in verdict.guidelines] == [2]
    verdict = evaluate(RULES, _snapshot(amount="80"))
    assert (verdict.refusals, [r.id for r in verdict.guidelines]) == ((), [2])
    assert evaluate(RULES, _snapshot(amount="80", tier="vip")).allowed


def test_a_rule_applies_only_to_its_actions():
    assert evaluate(RULES, _snapshot(kind="discount", amount="500")).allowed
    reopen = Snapshot(action=ActionFacts(kind="reopen"), case=CaseFacts(tags=frozenset({"legal-hold"})))
    assert [r.id for r in evaluate(RULES, reopen, kinds={"status_change", "reopen"}).refusals] == [3]
    assert evaluate(RULES, reopen, kinds={"credit"}).allowed


def test_a_snapshot_flattens_to_decimal_facts():
    flat = _snapshot(warranty_left=12).facts()
    assert flat["asset.warranty_days_left"] == Decimal(12) and isinstance(flat["asset.warranty_days_left"], Decimal)
    assert flat["case.id"] == Decimal(10001) and flat["asset.in_warranty"] is True
    assert flat["action.amount"] == Decimal("120") and flat["case.tags"] == frozenset()


def test_a_rule_kind_is_checked():
    with pytest.raises(ValueError, match="'sometimes' is not a valid Kind"):
        rule(id=9, name="x", kind="sometimes", applies_to=["refund"], condition="action.amount > 1")
    assert (
        rule(id=9, name="x", kind=Kind.GUIDELINE, applies_to=["refund"], condition="action.amount > 1").kind
        == "guideline"
    )


@pytest.mark.parametrize(
    ("reason", "ok"),
    [
        ("", False),
        ("because", False),
        ("ok ok ok ok ok ok", False),
        ("Customer waited two weeks.", True),
        ("Long-standing customer; the part failed twice in a month.", True),
    ],
)
def test_a_reason_is_at_least_a_sentence(reason, ok):
    assert is_a_sentence(reason) is ok


def test_fifty_rules_give_one_verdict_naming_every_rule_that_fired():
    # speed is bench/policies_bench.py's to measure (p99 against 1 ms), never a timed unit test
    rules = [
        rule(
            id=i,
            name=f"r{i}",
            kind="guideline" if i % 2 else "integrity",
            applies_to=["refund", "credit"],
            condition=f'action.amount > {i * 10} and customer.tier != "vip" and "x{i}" in case.tags',
        )
        for i in range(50)
    ]
    verdict = evaluate(rules, _snapshot(tags=("x3", "x40")))
    fired = sorted(r.id for r in (*verdict.refusals, *verdict.guidelines))
    assert fired == [3]


def test_the_engine_imports_no_django():
    code = "import sys, caseloop.policies.engine; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"
