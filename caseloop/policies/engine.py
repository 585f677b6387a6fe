"""The rule engine: a small, safe condition language and the evaluation of rules against a snapshot.

Pure Python, no Django: the policies domain loads rules and builds a
`Snapshot` of the case, customer, asset, action and actor; this module
decides which rules the attempted action trips. It is fast (conditions are
compiled once to nested closures) and tested on its own.

The language (never `eval`)::

    action.amount > 100 and customer.tier != "vip"
    "legal-hold" in case.tags and action.to_status in ["solved", "closed"]
    action.amount > customer.orders_total * 0.5 or not asset.in_warranty

- literals: numbers (exact decimals), "strings" or 'strings', true, false,
  null, lists `[1, 2]`;
- names: the dotted fields of `FIELDS` (an unknown name is refused when the
  rule is saved, with its position);
- operators, loosest first: `or`, `and`, `not`, comparisons
  (`== != < <= > >= in`, `not in`), `+ -`, `* /`, unary `-`.

Conditions are type-checked when compiled: `and`/`or`/`not` take booleans,
ordering and arithmetic take numbers, `==` compares like with like, `in`
takes a list on its right, and the whole condition must be a boolean. At run
time a missing value is null: any ordering or arithmetic with null is false or
null, so a rule about an asset does not trip when the case has none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

MAX_CONDITION = 2000
MAX_DEPTH = 40
# each operator nests one closure in another; evaluation recursion must stay far from Python's limit
MAX_OPERATORS = 200


class Kind(StrEnum):
    INTEGRITY = "integrity"
    GUIDELINE = "guideline"


class Action(StrEnum):
    """What a rule can apply to; the domains that perform these ask the engine first."""

    STATUS_CHANGE = "status_change"
    REOPEN = "reopen"
    REFUND = "refund"
    CREDIT = "credit"
    DISCOUNT = "discount"
    FEE_WAIVER = "fee_waiver"
    FREE_REPLACEMENT = "free_replacement"
    BOOKING_CHANGE = "booking_change"
    QUOTE = "quote"


class T(StrEnum):
    """The types of the language."""

    NUMBER = "number"
    STRING = "string"
    BOOL = "boolean"
    LIST = "list"
    NULL = "null"


# Every name a condition may use, with its type. A snapshot supplies these (None when unknown).
FIELDS: dict[str, T] = {
    "case.id": T.NUMBER,
    "case.status": T.STRING,
    "case.priority": T.STRING,
    "case.channel": T.STRING,
    "case.team": T.STRING,
    "case.tags": T.LIST,
    "case.age_hours": T.NUMBER,
    "case.message_count": T.NUMBER,
    "case.has_asset": T.BOOL,
    "case.answered": T.BOOL,
    "customer.tier": T.STRING,
    "customer.organization": T.STRING,
    "customer.organization_tier": T.STRING,
    "customer.language": T.STRING,
    "customer.open_cases": T.NUMBER,
    "customer.cases_90d": T.NUMBER,
    "customer.concessions_90d": T.NUMBER,
    "customer.orders_total": T.NUMBER,
    "asset.present": T.BOOL,
    "asset.in_warranty": T.BOOL,
    "asset.warranty_days_left": T.NUMBER,
    "asset.age_days": T.NUMBER,
    "asset.status": T.STRING,
    "asset.manufacturer": T.STRING,
    "asset.model": T.STRING,
    "action.kind": T.STRING,
    "action.amount": T.NUMBER,
    "action.currency": T.STRING,
    "action.percent": T.NUMBER,
    "action.from_status": T.STRING,
    "action.to_status": T.STRING,
    "action.paid": T.NUMBER,
    "action.lines": T.NUMBER,
    "actor.role": T.STRING,
    "actor.teams": T.LIST,
}


class ConditionError(ValueError):
    """A condition that cannot be compiled: the message says what, `position` where (0-based)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


# --- tokens -------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\+|-|\*|/)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
_OPERATORS = {"and", "or", "not", "in"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, name, op, keyword, end
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = position + (len(text[position:]) - len(text[position:].lstrip()))
            raise ConditionError(f"unexpected {text[start]!r}", start)
        kind = match.lastgroup or ""
        value = match.group(kind)
        start = match.start(kind)
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        tokens.append(_Token(kind, value, start))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


# --- the tree -----------------------------------------------------------------------------------------
Facts = Mapping[str, Any]
Fn = Callable[[Facts], Any]


@dataclass(frozen=True, slots=True)
class _Node:
    type: T
    fn: Fn
    position: int
    constant: bool = False
    element: T | None = None  # of a list


def _const(value: Any, type_: T, position: int, element: T | None = None) -> _Node:
    return _Node(type_, lambda _facts: value, position, constant=True, element=element)


def _truthy(value: Any) -> bool:
    return value is True


def _either(a: Fn, b: Fn) -> Fn:
    return lambda f: _truthy(a(f)) or _truthy(b(f))


def _both(a: Fn, b: Fn) -> Fn:
    return lambda f: _truthy(a(f)) and _truthy(b(f))


def _ordered(op: str) -> Callable[[Any, Any], bool]:
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    inner = compare[op]

    def apply(a: Any, b: Any) -> bool:
        return a is not None and b is not None and inner(a, b)

    return apply


def _arith(op: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return None if b == 0 else a / b

    return apply


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, T]) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.fields = fields
        self.depth = 0
        self.operators = 0
        self.names: set[str] = set()

    # helpers
    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        counted = (token.kind == "op" and token.text not in ("(", ")", "[", "]", ",")) or (
            token.kind == "keyword" and token.text in _OPERATORS
        )
        if counted:
            self.operators += 1
            if self.operators > MAX_OPERATORS:
                raise ConditionError(f"a condition has at most {MAX_OPERATORS} operators", token.position)
        return token

    def _at(self, kind: str, *texts: str) -> bool:
        token = self.current
        return token.kind == kind and (not texts or token.text in texts)

    def _expect(self, kind: str, text: str) -> _Token:
        if not self._at(kind, text):
            raise ConditionError(f"expected {text!r}, found {self._describe(self.current)}", self.current.position)
        return self._take()

    @staticmethod
    def _describe(token: _Token) -> str:
        return "the end" if token.kind == "end" else repr(token.text)

    def _enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError("the condition is nested too deeply", position)

    # grammar
    def parse(self) -> _Node:
        node = self._or()
        if self.current.kind != "end":
            raise ConditionError(f"unexpected {self._describe(self.current)}", self.current.position)
        if node.type != T.BOOL:
            raise ConditionError("a condition must be true or false (a comparison, not a value)", node.position)
        return node

    def _bool(self, node: _Node, word: str) -> None:
        if node.type not in (T.BOOL, T.NULL):
            raise ConditionError(f"'{word}' joins comparisons, not a {node.type}", node.position)

    def _or(self) -> _Node:
        node = self._and()
        while self._at("keyword", "or"):
            self._take()
            right = self._and()
            self._bool(node, "or")
            self._bool(right, "or")
            node = _Node(T.BOOL, _either(node.fn, right.fn), node.position)
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._at("keyword", "and"):
            self._take()
            right = self._not()
            self._bool(node, "and")
            self._bool(right, "and")
            node = _Node(T.BOOL, _both(node.fn, right.fn), node.position)
        return node

    def _not(self) -> _Node:
        if self._at("keyword", "not"):
            token = self._take()
            self._enter(token.position)
            inner = self._not()
            self.depth -= 1
            self._bool(inner, "not")
            fn = inner.fn
            return _Node(T.BOOL, lambda f: not _truthy(fn(f)), token.position)
        return self._comparison()

    def _comparison(self) -> _Node:
        left = self._sum()
        token = self.current
        if self._at("op", "==", "!=", "<", "<=", ">", ">="):
            op = self._take().text
            right = self._sum()
            return self._compare(op, left, right, token.position)
        if self._at("keyword", "in") or (self._at("keyword", "not") and self._next_is_in()):
            negate = self._take().text == "not"
            if negate:
                self._take()
            right = self._sum()
            return self._membership(left, right, negate, token.position)
        return left

    def _next_is_in(self) -> bool:
        after = self.tokens[self.index + 1]
        return after.kind == "keyword" and after.text == "in"

    def _compare(self, op: str, left: _Node, right: _Node, position: int) -> _Node:
        lf, rf = left.fn, right.fn
        if op in ("==", "!="):
            if T.NULL not in (left.type, right.type) and left.type != right.type:
                raise ConditionError(f"cannot compare a {left.type} with a {right.type}", position)
            if op == "==":
                return _Node(T.BOOL, lambda f: lf(f) == rf(f), left.position)
            return _Node(T.BOOL, lambda f: lf(f) != rf(f), left.position)
        for side in (left, right):
            if side.type != T.NUMBER:
                raise ConditionError(f"'{op}' compares numbers, not a {side.type}", side.position)
        compare = _ordered(op)
        return _Node(T.BOOL, lambda f: compare(lf(f), rf(f)), left.position)

    def _membership(self, left: _Node, right: _Node, negate: bool, position: int) -> _Node:
        if right.type != T.LIST:
            raise ConditionError(f"'in' needs a list on its right, not a {right.type}", position)
        if right.element is not None and left.type not in (right.element, T.NULL):
            raise ConditionError(f"a {left.type} is never in a list of {right.element}s", position)
        lf, rf = left.fn, right.fn

        def contains(f: Facts) -> bool:
            items = rf(f)
            return items is not None and lf(f) in items

        if negate:
            return _Node(T.BOOL, lambda f: not contains(f), left.position)
        return _Node(T.BOOL, contains, left.position)

    def _sum(self) -> _Node:
        node = self._term()
        while self._at("op", "+", "-"):
            op_token = self._take()
            node = self._arithmetic(op_token, node, self._term())
        return node

    def _term(self) -> _Node:
        node = self._unary()
        while self._at("op", "*", "/"):
            op_token = self._take()
            node = self._arithmetic(op_token, node, self._unary())
        return node

    def _arithmetic(self, token: _Token, left: _Node, right: _Node) -> _Node:
        for side in (left, right):
            if side.type != T.NUMBER:
                raise ConditionError(f"'{token.text}' works on numbers, not a {side.type}", side.position)
        apply, lf, rf = _arith(token.text), left.fn, right.fn
        return _Node(T.NUMBER, lambda f: apply(lf(f), rf(f)), left.position)

    def _unary(self) -> _Node:
        if self._at("op", "-"):
            token = self._take()
            self._enter(token.position)
            inner = self._unary()
            self.depth -= 1
            if inner.type != T.NUMBER:
                raise ConditionError(f"'-' works on numbers, not a {inner.type}", token.position)
            fn = inner.fn
            return _Node(T.NUMBER, lambda f: None if (v := fn(f)) is None else -v, token.position)
        return self._atom()

    def _atom(self) -> _Node:
        token = self.current
        if token.kind == "number":
            self._take()
            try:
                return _const(Decimal(token.text), T.NUMBER, token.position)
            except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
                raise ConditionError("not a number", token.position) from exc
        if token.kind == "string":
            self._take()
            return _const(_unquote(token.text), T.STRING, token.position)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self._take()
            return _const(token.text == "true", T.BOOL, token.position)
        if token.kind == "keyword" and token.text == "null":
            self._take()
            return _const(None, T.NULL, token.position)
        if token.kind == "name":
            return self._name()
        if self._at("op", "("):
            self._take()
            self._enter(token.position)
            node = self._or()
            self.depth -= 1
            self._expect("op", ")")
            return node
        if self._at("op", "["):
            return self._list()
        raise ConditionError(f"expected a value, found {self._describe(token)}", token.position)

    def _name(self) -> _Node:
        token = self._take()
        type_ = self.fields.get(token.text)
        if type_ is None:
            close = sorted(n for n in self.fields if n.split(".")[0] == token.text.split(".")[0])
            hint = f"; {token.text.split('.')[0]} has {', '.join(close)}" if close else ""
            raise ConditionError(f"unknown name {token.text!r}{hint}", token.position)
        self.names.add(token.text)
        key = token.text
        return _Node(type_, lambda f: f.get(key), token.position)

    def _list(self) -> _Node:
        start = self._take()
        items: list[_Node] = []
        while not self._at("op", "]"):
            item = self._sum()
            if not item.constant or item.type not in (T.NUMBER, T.STRING):
                raise ConditionError("a list holds numbers or strings written out", item.position)
            items.append(item)
            if not self._at("op", "]"):
                self._expect("op", ",")
        self._expect("op", "]")
        types = {i.type for i in items}
        if len(types) > 1:
            raise ConditionError("a list holds one type of value", start.position)
        values = frozenset(i.fn({}) for i in items)
        return _const(values, T.LIST, start.position, element=types.pop() if types else None)


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled condition: call `test(facts)`; `names` are the fields it reads."""

    text: str
    test: Callable[[Facts], bool]
    names: frozenset[str]


@lru_cache(maxsize=2048)
def compile_condition(text: str) -> Condition:
    """Parse and type-check a condition; a ConditionError says what is wrong and where."""
    if len(text) > MAX_CONDITION:
        raise ConditionError(f"a condition is at most {MAX_CONDITION} characters", MAX_CONDITION)
    if not text.strip():
        raise ConditionError("a condition cannot be empty", 0)
    parser = _Parser(text, FIELDS)
    node = parser.parse()
    fn = node.fn
    return Condition(text=text, test=lambda facts: _truthy(fn(facts)), names=frozenset(parser.names))


# --- the snapshot ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CaseFacts:
    id: int | None = None
    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    team: str | None = None
    tags: frozenset[str] = frozenset()
    age_hours: Decimal | None = None
    message_count: int | None = None
    has_asset: bool = False
    answered: bool = False  # we have written to the customer (a first response), whatever they wrote since


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    tier: str | None = None
    organization: str | None = None
    organization_tier: str | None = None
    language: str | None = None
    open_cases: int | None = None
    cases_90d: int | None = None
    concessions_90d: int | None = None
    orders_total: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AssetFacts:
    present: bool = False
    in_warranty: bool | None = None
    warranty_days_left: int | None = None
    age_days: int | None = None
    status: str | None = None
    manufacturer: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ActionFacts:
    kind: str
    amount: Decimal | None = None
    currency: str | None = None
    percent: Decimal | None = None
    from_status: str | None = None
    to_status: str | None = None
    paid: Decimal | None = None
    lines: int | None = None


@dataclass(frozen=True, slots=True)
class ActorFacts:
    role: str | None = None
    teams: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a condition may look at, as it is at the moment of the attempt."""

    action: ActionFacts
    case: CaseFacts = field(default_factory=CaseFacts)
    customer: CustomerFacts = field(default_factory=CustomerFacts)
    asset: AssetFacts = field(default_factory=AssetFacts)
    actor: ActorFacts = field(default_factory=ActorFacts)

    def facts(self) -> dict[str, Any]:
        """The flat `name → value` mapping conditions read (numbers as Decimals)."""
        out: dict[str, Any] = {}
        for prefix in ("case", "customer", "asset", "action", "actor"):
            part = getattr(self, prefix)
            for name in part.__slots__:
                value = getattr(part, name)
                if isinstance(value, int) and not isinstance(value, bool):
                    value = Decimal(value)
                out[f"{prefix}.{name}"] = value
        return out


# --- rules and their evaluation -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as the engine sees it: what it applies to, when it trips, and what it is."""

    id: int
    name: str
    kind: Kind
    applies_to: frozenset[str]
    condition: Condition
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rules an attempt trips: integrity rules refuse it; guidelines ask for a reason."""

    refusals: tuple[RuleSpec, ...] = ()
    guidelines: tuple[RuleSpec, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusals and not self.guidelines


def rule(
    *, id: int, name: str, kind: Kind | str, applies_to: Iterable[str], condition: str, explanation: str = ""
) -> RuleSpec:
    """Build a RuleSpec, compiling its condition (a ConditionError if it does not compile)."""
    return RuleSpec(
        id=id,
        name=name,
        kind=Kind(kind),
        applies_to=frozenset(applies_to),
        condition=compile_condition(condition),
        explanation=explanation,
    )


def evaluate(rules: Sequence[RuleSpec], snapshot: Snapshot, *, kinds: Iterable[str] | None = None) -> Verdict:
    """Which of `rules` the snapshot's action trips.

    A rule is considered when it applies to the action's kind (or to any of
    `kinds`: a reopen is also a status change). Integrity rules come first;
    the order within each kind is the order of `rules`.
    """
    wanted = frozenset(kinds) if kinds is not None else frozenset({snapshot.action.kind})
    facts = snapshot.facts()
    refusals: list[RuleSpec] = []
    guidelines: list[RuleSpec] = []
    for spec in rules:
        if spec.applies_to.isdisjoint(wanted):
            continue
        if spec.condition.test(facts):
            (refusals if spec.kind == Kind.INTEGRITY else guidelines).append(spec)
    return Verdict(refusals=tuple(refusals), guidelines=tuple(guidelines))


_SENTENCE_WORDS = 4
_SENTENCE_CHARS = 20


def is_a_sentence(reason: str) -> bool:
    """At least a sentence: four words and twenty characters, not one repeated word ("ok ok ok ok")."""
    words = reason.split()
    return (
        len(words) >= _SENTENCE_WORDS
        and len(" ".join(words)) >= _SENTENCE_CHARS
        and len({w.lower().strip(".,;:!?") for w in words}) > 2
    )
