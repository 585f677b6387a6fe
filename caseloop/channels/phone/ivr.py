"""An IVR as plain data, and the checks every version passes before it can be published.

Pure: no Django, no I/O, so the rules are tested exhaustively and fast, and the
admin page, the publish action and the webhooks read one definition of them.

A definition is JSON like this (docs/channels/phone.md has the full reference):

    {
      "start": "main",
      "person": "support",                      # the team that answers "speak to a person"
      "dial": {"support": "+15550100",           # where each team's calls are put through
               "billing": "sip:billing@pbx.example.com"},
      "voice": "alice", "language": "en-US",    # optional, passed to <Say>
      "menus": {
        "main": {
          "prompt": "For repairs press 1. For billing press 2. To speak to a person press 0.",
          "options": [
            {"digit": "1", "label": "Repairs", "action": "menu", "menu": "repairs"},
            {"digit": "2", "label": "Billing", "action": "team", "team": "billing"},
            {"digit": "3", "label": "Opening hours", "action": "answer", "text": "We are open 8 to 6."},
            {"digit": "0", "label": "Speak to a person", "action": "person"}
          ]
        },
        "repairs": {...}
      }
    }

The rules (each problem has a stable code): the start menu exists; every menu is
reachable from it; no menu is more than three levels deep (the start menu is
level 1, counted along the shortest way in); every menu offers "speak to a
person"; no dead end — every menu has options, every option leads somewhere that
exists (a menu, a team with a dial target, a non-empty answer, which returns to
its menu after playing); digits are single keys 0-9, * or #, used once per menu.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_DEPTH = 3
MAX_OPTIONS = 12
MAX_PROMPT = 1000
MAX_ANSWER = 2000
MAX_LABEL = 80
MAX_MENUS = 50
DIGITS = frozenset("0123456789*#")
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SIP = re.compile(r"^sip:[^@\s<>\"]+@[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class Action(StrEnum):
    MENU = "menu"  # go to another menu
    TEAM = "team"  # put the call through to a team
    ANSWER = "answer"  # read a self-service answer, then the menu again
    PERSON = "person"  # speak to a person (the "person" team)


class ProblemCode(StrEnum):
    MALFORMED = "malformed"
    NO_START = "no_start"
    BAD_KEY = "bad_key"
    TOO_MANY_MENUS = "too_many_menus"
    UNKNOWN_MENU = "unknown_menu"
    UNREACHABLE = "unreachable"
    TOO_DEEP = "too_deep"
    NO_PERSON = "no_person"
    DEAD_END = "dead_end"
    BAD_DIGIT = "bad_digit"
    DUPLICATE_DIGIT = "duplicate_digit"
    TOO_MANY_OPTIONS = "too_many_options"
    EMPTY_PROMPT = "empty_prompt"
    EMPTY_LABEL = "empty_label"
    EMPTY_ANSWER = "empty_answer"
    TOO_LONG = "too_long"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_TEAM = "unknown_team"
    NO_DIAL_TARGET = "no_dial_target"
    BAD_DIAL_TARGET = "bad_dial_target"


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    where: str  # "menus.repairs.options[2]" — a path an administrator can find in the text
    message: str


@dataclass(frozen=True, slots=True)
class Option:
    digit: str
    label: str
    action: Action
    target: str = ""  # the menu key (MENU) or team slug (TEAM)
    text: str = ""  # the answer read out (ANSWER)


@dataclass(frozen=True, slots=True)
class Menu:
    key: str
    prompt: str
    options: tuple[Option, ...]

    def option(self, digit: str) -> Option | None:
        return next((o for o in self.options if o.digit == digit), None)


@dataclass(frozen=True, slots=True)
class Ivr:
    start: str
    menus: Mapping[str, Menu]
    person_team: str
    dial: Mapping[str, str]
    voice: str = ""
    language: str = ""

    def team_of(self, option: Option) -> str:
        """The team a routing option puts the call through to."""
        return self.person_team if option.action == Action.PERSON else option.target


_Add = Callable[[ProblemCode, str, str], None]


class Malformed(ValueError):
    """The definition is not shaped like an IVR at all (see `parse`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse(raw: Any) -> Ivr:
    """The definition as typed objects; `Malformed` when its shape is wrong (wrong types, unknown actions).

    Only the shape is checked here; `check` finds everything else, so an
    administrator sees every content problem at once.
    """
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(ProblemCode.MALFORMED, where, message))

    if not isinstance(raw, Mapping):
        raise Malformed([Problem(ProblemCode.MALFORMED, "", "The definition must be a JSON object.")])
    menus_raw = raw.get("menus")
    if not isinstance(menus_raw, Mapping) or not menus_raw:
        bad("menus", '"menus" must be an object with at least one menu.')
        menus_raw = {}
    dial_raw = raw.get("dial", {})
    if not isinstance(dial_raw, Mapping) or not all(isinstance(v, str) for v in dial_raw.values()):
        bad("dial", '"dial" must map team slugs to a phone number or SIP address.')
        dial_raw = {}
    for name in ("start", "person", "voice", "language"):
        if name in raw and not isinstance(raw[name], str):
            bad(name, f'"{name}" must be text.')
    menus: dict[str, Menu] = {}
    for key, menu_raw in menus_raw.items():
        where = f"menus.{key}"
        if not isinstance(menu_raw, Mapping):
            bad(where, f"Menu {key!r} must be an object with a prompt and options.")
            continue
        options_raw = menu_raw.get("options", [])
        if not isinstance(options_raw, list):
            bad(f"{where}.options", f"The options of menu {key!r} must be a list.")
            options_raw = []
        options = []
        for index, option_raw in enumerate(options_raw):
            if not isinstance(option_raw, Mapping):
                bad(f"{where}.options[{index}]", "Each option must be an object.")
                continue
            action_raw = _text(option_raw.get("action"))
            if action_raw not in {a.value for a in Action}:
                problems.append(Problem(ProblemCode.UNKNOWN_ACTION, f"{where}.options[{index}]",
                                        f"Option {index + 1} of menu {key!r}: the action must be one of "
                                        f"{', '.join(a.value for a in Action)}."))  # fmt: skip
                continue
            action = Action(action_raw)
            target_field = {Action.MENU: "menu", Action.TEAM: "team"}.get(action)
            options.append(Option(
                digit=str(option_raw.get("digit", "")).strip(),
                label=_text(option_raw.get("label")),
                action=action,
                target=_text(option_raw.get(target_field)) if target_field else "",
                text=_text(option_raw.get("text")) if action == Action.ANSWER else "",
            ))  # fmt: skip
        menus[str(key)] = Menu(key=str(key), prompt=_text(menu_raw.get("prompt")), options=tuple(options))
    if problems:
        raise Malformed(problems)
    return Ivr(
        start=_text(raw.get("start")),
        menus=menus,
        person_team=_text(raw.get("person")),
        dial={str(k): v.strip() for k, v in dial_raw.items()},
        voice=_text(raw.get("voice")),
        language=_text(raw.get("language")),
    )


def menu_depths(ivr: Ivr) -> dict[str, int]:
    """Each reachable menu's level (start = 1), along the shortest way in from the start menu."""
    if ivr.start not in ivr.menus:
        return {}
    depths = {ivr.start: 1}
    queue = deque([ivr.start])
    while queue:
        key = queue.popleft()
        for option in ivr.menus[key].options:
            if option.action == Action.MENU and option.target in ivr.menus and option.target not in depths:
                depths[option.target] = depths[key] + 1
                queue.append(option.target)
    return depths


def is_dial_target(value: str) -> bool:
    """A phone number in E.164 (+15550100) or a SIP address (sip:desk@pbx.example.com)."""
    return bool(_E164.match(value) or _SIP.match(value))


def check(ivr: Ivr, *, known_teams: Collection[str]) -> list[Problem]:
    """Every problem of a parsed definition, in a stable order; an empty list means publishable."""
    problems: list[Problem] = []

    def add(code: ProblemCode, where: str, message: str) -> None:
        problems.append(Problem(code, where, message))

    if len(ivr.menus) > MAX_MENUS:
        add(ProblemCode.TOO_MANY_MENUS, "menus", f"An IVR has at most {MAX_MENUS} menus.")
    if ivr.start not in ivr.menus:
        add(ProblemCode.NO_START, "start", f'"start" must name one of the menus (got {ivr.start!r}).')
    for team, target in sorted(ivr.dial.items()):
        if not is_dial_target(target):
            add(ProblemCode.BAD_DIAL_TARGET, f"dial.{team}",
                f"{target!r} is neither a phone number in E.164 (+15550100) nor a sip: address.")  # fmt: skip
    _check_team(ivr, ivr.person_team, "person", known_teams, add, what='"person" (who answers "speak to a person")')
    depths = menu_depths(ivr)
    # menus in the order callers meet them, then the unreachable ones by key: the same order however the
    # JSON was stored (PostgreSQL's jsonb does not keep the order keys were written in)
    for key in sorted(ivr.menus, key=lambda k: (k not in depths, depths.get(k, 0), k)):
        menu = ivr.menus[key]
        where = f"menus.{key}"
        if not _KEY.match(key):
            add(ProblemCode.BAD_KEY, where, f"Menu key {key!r}: lower-case letters, digits, - or _, starting with a "
                                            "letter, at most 40.")  # fmt: skip
        if not menu.prompt:
            add(ProblemCode.EMPTY_PROMPT, f"{where}.prompt", f"Menu {key!r} needs a prompt to read to the caller.")
        elif len(menu.prompt) > MAX_PROMPT:
            add(ProblemCode.TOO_LONG, f"{where}.prompt", f"The prompt of menu {key!r} is over {MAX_PROMPT} characters.")
        if ivr.start in ivr.menus and key not in depths:
            add(ProblemCode.UNREACHABLE, where, f"No option leads to menu {key!r}.")
        elif depths.get(key, 0) > MAX_DEPTH:
            add(ProblemCode.TOO_DEEP, where,
                f"Menu {key!r} is {depths[key]} levels deep; callers reach every menu within {MAX_DEPTH}.")  # fmt: skip
        if not menu.options:
            add(ProblemCode.DEAD_END, f"{where}.options", f"Menu {key!r} has no options: callers would be stuck.")
        elif len(menu.options) > MAX_OPTIONS:
            add(ProblemCode.TOO_MANY_OPTIONS, f"{where}.options", f"Menu {key!r} has over {MAX_OPTIONS} options.")
        if menu.options and not any(o.action == Action.PERSON for o in menu.options):
            add(ProblemCode.NO_PERSON, f"{where}.options", f'Menu {key!r} does not offer "speak to a person".')
        seen: set[str] = set()
        for index, option in enumerate(menu.options):
            _check_option(ivr, key, index, option, seen, known_teams, add)
    return problems


def _check_team(ivr: Ivr, team: str, where: str, known_teams: Collection[str], add: _Add, *, what: str) -> None:
    if not team:
        add(ProblemCode.UNKNOWN_TEAM, where, f"{what} must name a team.")
    elif team not in known_teams:
        add(ProblemCode.UNKNOWN_TEAM, where, f"{what}: there is no team {team!r}.")
    elif team not in ivr.dial:
        add(ProblemCode.NO_DIAL_TARGET, where, f'{what}: team {team!r} has no entry in "dial" to put calls through.')


def _check_option(ivr: Ivr, key: str, index: int, option: Option, seen: set[str], known_teams: Collection[str],
                  add: _Add) -> None:  # fmt: skip
    where = f"menus.{key}.options[{index}]"
    if len(option.digit) != 1 or option.digit not in DIGITS:
        add(ProblemCode.BAD_DIGIT, where, f"Option {index + 1} of menu {key!r}: the digit is one key, 0-9, * or #.")
    elif option.digit in seen:
        add(ProblemCode.DUPLICATE_DIGIT, where, f"Menu {key!r} uses {option.digit} twice.")
    seen.add(option.digit)
    if not option.label:
        add(ProblemCode.EMPTY_LABEL, where, f"Option {option.digit or index + 1} of menu {key!r} needs a label.")
    elif len(option.label) > MAX_LABEL:
        add(ProblemCode.TOO_LONG, where, f"The label of option {option.digit} of menu {key!r} is too long.")
    if option.action == Action.MENU:
        if option.target not in ivr.menus:
            message = f"Option {option.digit} of menu {key!r} leads to menu {option.target!r}, which does not exist."
            add(ProblemCode.UNKNOWN_MENU, where, message)
    elif option.action == Action.TEAM:
        _check_team(ivr, option.target, where, known_teams, add, what=f"Option {option.digit} of menu {key!r}")
    elif option.action == Action.ANSWER:
        if not option.text:
            add(ProblemCode.EMPTY_ANSWER, where, f"Option {option.digit} of menu {key!r} has no answer to read.")
        elif len(option.text) > MAX_ANSWER:
            add(ProblemCode.TOO_LONG, where, f"The answer of option {option.digit} of menu {key!r} is too long.")


def validate(raw: Any, *, known_teams: Collection[str]) -> list[Problem]:
    """Parse and check in one go: the problems of a raw definition (none: it may be published)."""
    try:
        ivr = parse(raw)
    except Malformed as exc:
        return exc.problems
    return check(ivr, known_teams=known_teams)


class StepKind(StrEnum):
    MENU = "menu"  # read this menu (a submenu chosen, or the same one again)
    ANSWER = "answer"  # read the option's answer, then the menu it was chosen in
    ROUTE = "route"  # put the call through to `team`
    RETRY = "retry"  # no key or a wrong key: say so and read the menu again


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    menu: Menu  # the menu to read next (for ANSWER and RETRY: the one the caller is in)
    option: Option | None = None
    team: str = ""


MAX_TRIES = 3  # silent or wrong tries at one menu before the caller is put through to a person


def next_step(ivr: Ivr, menu_key: str, digit: str, *, tries: int) -> Step:
    """What happens when a caller in `menu_key` presses `digit` ("" = nothing) on their `tries`-th go (from 0).

    A caller who presses nothing useful three times is put through to a
    person rather than hung up on: nobody is left in a loop.
    """
    menu = ivr.menus[menu_key]
    option = menu.option(digit) if digit else None
    if option is None:
        if tries + 1 >= MAX_TRIES:
            return Step(StepKind.ROUTE, menu, None, ivr.person_team)
        return Step(StepKind.RETRY, menu)
    if option.action == Action.MENU:
        return Step(StepKind.MENU, ivr.menus[option.target], option)
    if option.action == Action.ANSWER:
        return Step(StepKind.ANSWER, menu, option)
    return Step(StepKind.ROUTE, menu, option, ivr.team_of(option))


@dataclass(frozen=True, slots=True)
class OutlineLine:
    depth: int  # 0 for the start menu's prompt, 1 for its options, …
    text: str


def outline(ivr: Ivr) -> list[OutlineLine]:
    """The tree as an administrator reads it: each menu once, under the option that first leads to it."""
    lines: list[OutlineLine] = []
    shown: set[str] = set()

    def walk(key: str, depth: int) -> None:
        menu = ivr.menus[key]
        shown.add(key)
        lines.append(OutlineLine(depth, f"[{key}] {menu.prompt}"))
        for option in sorted(menu.options, key=lambda o: (o.digit == "0", o.digit)):
            if option.action == Action.MENU:
                if option.target in ivr.menus and option.target not in shown:
                    lines.append(OutlineLine(depth + 1, f"{option.digit} {option.label} →"))
                    walk(option.target, depth + 2)
                else:
                    lines.append(OutlineLine(depth + 1, f"{option.digit} {option.label} → menu {option.target}"))
            elif option.action == Action.ANSWER:
                lines.append(OutlineLine(depth + 1, f"{option.digit} {option.label}: “{option.text}” (then this menu)"))
            else:
                team = ivr.team_of(option)
                target = ivr.dial.get(team, "?")
                lines.append(OutlineLine(depth + 1, f"{option.digit} {option.label} → team {team} ({target})"))

    if ivr.start in ivr.menus:
        walk(ivr.start, 0)
    return lines


EXAMPLE: dict[str, Any] = {
    "start": "main",
    "person": "support",
    "dial": {"support": "+15550100"},
    "menus": {
        "main": {
            "prompt": "Thank you for calling. For opening hours press 1. To speak to a person press 0.",
            "options": [
                {"digit": "1", "label": "Opening hours", "action": "answer",
                 "text": "We are open Monday to Friday, 8 in the morning to 6 in the evening."},
                {"digit": "0", "label": "Speak to a person", "action": "person"},
            ],
        }
    },
}  # fmt: skip
