"""The IVR rules, on plain data (no database): each rule with a tree that breaks it, and trees that pass."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from caseloop.channels.phone.ivr import (
    EXAMPLE,
    Action,
    Malformed,
    ProblemCode,
    StepKind,
    check,
    is_dial_target,
    menu_depths,
    next_step,
    outline,
    parse,
    validate,
)

TEAMS = {"support", "billing", "repairs"}


def person(digit: str = "0") -> dict[str, Any]:
    return {"digit": digit, "label": "Speak to a person", "action": "person"}


def go(digit: str, menu: str) -> dict[str, Any]:
    return {"digit": digit, "label": f"To {menu}", "action": "menu", "menu": menu}


def tree(**menus: list[dict[str, Any]]) -> dict[str, Any]:
    """A definition whose first menu is the start; each menu gets a prompt."""
    return {
        "start": next(iter(menus)),
        "person": "support",
        "dial": {"support": "+15550100", "billing": "sip:billing@pbx.example.com", "repairs": "+15550101"},
        "menus": {key: {"prompt": f"This is {key}.", "options": options} for key, options in menus.items()},
    }


def codes(raw: Any) -> list[tuple[ProblemCode, str]]:
    return [(p.code, p.where) for p in validate(raw, known_teams=TEAMS)]


def test_the_example_and_a_three_level_tree_with_every_action_pass():
    assert validate(EXAMPLE, known_teams={"support"}) == []
    raw = tree(
        main=[go("1", "repairs"), {"digit": "2", "label": "Billing", "action": "team", "team": "billing"}, person()],
        repairs=[go("1", "doors"), {"digit": "9", "label": "Back", "action": "menu", "menu": "main"}, person("0")],
        doors=[
            {"digit": "1", "label": "Spring sizes", "action": "answer", "text": "Most doors take a 2 inch spring."},
            {"digit": "2", "label": "Repairs desk", "action": "team", "team": "repairs"},
            {"digit": "*", "label": "Start again", "action": "menu", "menu": "main"},
            person("#"),
        ],
    )
    assert codes(raw) == []
    ivr = parse(raw)
    assert menu_depths(ivr) == {"main": 1, "repairs": 2, "doors": 3}
    assert ivr.menus["doors"].option("2") is not None and ivr.menus["doors"].option("5") is None
    assert ivr.team_of(ivr.menus["main"].options[2]) == "support"
    assert ivr.menus["doors"].options[0].action == Action.ANSWER


def test_a_fourth_level_is_too_deep_but_a_shortcut_counts_the_shortest_way_in():
    deep = tree(a=[go("1", "b"), person()], b=[go("1", "c"), person()], c=[go("1", "d"), person()], d=[person()])
    assert codes(deep) == [(ProblemCode.TOO_DEEP, "menus.d")]
    # the same menu is also reachable from the start directly: level 2, fine
    shortcut = copy.deepcopy(deep)
    shortcut["menus"]["a"]["options"].append(go("2", "d"))
    assert codes(shortcut) == []


def test_every_menu_must_be_reachable():
    raw = tree(main=[person()], orphan=[person()], orphan_child=[person()])
    raw["menus"]["orphan"]["options"].append(go("1", "orphan_child"))
    assert codes(raw) == [(ProblemCode.UNREACHABLE, "menus.orphan"), (ProblemCode.UNREACHABLE, "menus.orphan_child")]


def test_every_level_offers_a_person():
    raw = tree(main=[go("1", "sub"), person()], sub=[go("9", "main")])
    assert codes(raw) == [(ProblemCode.NO_PERSON, "menus.sub.options")]
    # a team is not "a person": the caller must be able to ask for one explicitly
    raw["menus"]["sub"]["options"].append({"digit": "2", "label": "Billing", "action": "team", "team": "billing"})
    assert codes(raw) == [(ProblemCode.NO_PERSON, "menus.sub.options")]


def test_dead_ends_a_menu_without_options_a_missing_menu_an_empty_answer_and_a_team_without_a_line():
    raw = tree(
        main=[
            go("1", "empty"),
            go("2", "nowhere"),
            {"digit": "3", "label": "Hours", "action": "answer", "text": "  "},
            {"digit": "4", "label": "Sales", "action": "team", "team": "sales"},
            {"digit": "5", "label": "Repairs", "action": "team", "team": "repairs"},
            person(),
        ],
        empty=[],
    )
    del raw["dial"]["repairs"]
    assert codes(raw) == [
        (ProblemCode.UNKNOWN_MENU, "menus.main.options[1]"),
        (ProblemCode.EMPTY_ANSWER, "menus.main.options[2]"),
        (ProblemCode.UNKNOWN_TEAM, "menus.main.options[3]"),
        (ProblemCode.NO_DIAL_TARGET, "menus.main.options[4]"),
        (ProblemCode.DEAD_END, "menus.empty.options"),
    ]


def test_digits_are_single_keys_used_once():
    raw = tree(
        main=[go("1", "sub"), {**go("1", "sub")}, {**person(), "digit": "10"}, {**person(), "digit": "0"}],
        sub=[person()],
    )
    assert codes(raw) == [
        (ProblemCode.DUPLICATE_DIGIT, "menus.main.options[1]"),
        (ProblemCode.BAD_DIGIT, "menus.main.options[2]"),
    ]


def test_start_person_team_and_dial_targets():
    raw = tree(main=[person()])
    raw["start"] = "welcome"
    raw["person"] = "nobody"
    raw["dial"]["billing"] = "555-0100"
    assert codes(raw) == [
        (ProblemCode.NO_START, "start"),
        (ProblemCode.BAD_DIAL_TARGET, "dial.billing"),
        (ProblemCode.UNKNOWN_TEAM, "person"),
    ]
    # without a start menu nothing is "unreachable": the one real problem is reported, not a flood
    assert ProblemCode.UNREACHABLE not in {c for c, _ in codes(raw)}


def test_prompts_labels_keys_and_sizes():
    raw = tree(main=[{"digit": "1", "label": "", "action": "person"}, go("2", "Bad Key")])
    thirteen = [person(str(d)) for d in range(10)] + [person("*"), person("#"), go("1", "main")]
    raw["menus"]["Bad Key"] = {"prompt": "", "options": thirteen}
    found = codes(raw)
    assert (ProblemCode.EMPTY_LABEL, "menus.main.options[0]") in found
    assert (ProblemCode.BAD_KEY, "menus.Bad Key") in found
    assert (ProblemCode.EMPTY_PROMPT, "menus.Bad Key.prompt") in found
    assert (ProblemCode.TOO_MANY_OPTIONS, "menus.Bad Key.options") in found
    long_prompt = tree(main=[person()])
    long_prompt["menus"]["main"]["prompt"] = "x" * 1001
    assert codes(long_prompt) == [(ProblemCode.TOO_LONG, "menus.main.prompt")]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ([], ""),
        ({"start": "main"}, "menus"),
        ({"start": "main", "menus": {"main": "press 1"}}, "menus.main"),
        ({"start": "main", "menus": {"main": {"prompt": "x", "options": {"1": "a"}}}}, "menus.main.options"),
        ({"start": "main", "menus": {"main": {"prompt": "x", "options": ["a"]}}}, "menus.main.options[0]"),
        ({"start": 1, "menus": {"main": {"prompt": "x", "options": []}}}, "start"),
        ({"start": "main", "dial": ["+15550100"], "menus": {"main": {"prompt": "x", "options": []}}}, "dial"),
    ],
)
def test_malformed_definitions_are_refused_with_where(raw, where):
    with pytest.raises(Malformed) as excinfo:
        parse(raw)
    assert [(p.code, p.where) for p in excinfo.value.problems] == [(ProblemCode.MALFORMED, where)]
    assert codes(raw) == [(ProblemCode.MALFORMED, where)]


def test_an_unknown_action_is_reported_with_its_place():
    raw = tree(main=[person(), {"digit": "1", "label": "Voicemail", "action": "voicemail"}])
    assert codes(raw) == [(ProblemCode.UNKNOWN_ACTION, "menus.main.options[1]")]


def test_dial_targets():
    assert is_dial_target("+15550100") and is_dial_target("+442071838750")
    assert is_dial_target("sip:desk@pbx.example.com") and is_dial_target("sip:desk@10.0.0.5:5060")
    assert not any(is_dial_target(v) for v in ["5550100", "+0555", "tel:+15550100", "sip:@pbx", "sip:a b@pbx"])


def test_outline_shows_each_menu_once_under_the_option_that_leads_to_it():
    raw = tree(
        main=[go("1", "sub"), person()],
        sub=[{"digit": "1", "label": "Hours", "action": "answer", "text": "8 to 6"}, go("9", "main"), person()],
    )
    lines = [(line.depth, line.text) for line in outline(parse(raw))]
    assert lines == [
        (0, "[main] This is main."),
        (1, "1 To sub →"),
        (2, "[sub] This is sub."),
        (3, "1 Hours: “8 to 6” (then this menu)"),
        (3, "9 To main → menu main"),
        (3, "0 Speak to a person → team support (+15550100)"),
        (1, "0 Speak to a person → team support (+15550100)"),
    ]


def test_check_takes_parsed_trees_and_known_teams():
    ivr = parse(tree(main=[person()]))
    assert check(ivr, known_teams=TEAMS) == []
    assert [p.code for p in check(ivr, known_teams=set())] == [ProblemCode.UNKNOWN_TEAM]


def test_next_step_for_each_key_and_for_silence():
    ivr = parse(
        tree(
            main=[go("1", "sub"), {"digit": "2", "label": "Billing", "action": "team", "team": "billing"}, person()],
            sub=[{"digit": "1", "label": "Hours", "action": "answer", "text": "8 to 6"}, person()],
        )
    )
    step = next_step(ivr, "main", "1", tries=0)
    assert (step.kind, step.menu.key, step.option and step.option.label) == (StepKind.MENU, "sub", "To sub")
    step = next_step(ivr, "sub", "1", tries=0)
    assert (step.kind, step.menu.key, step.option and step.option.text) == (StepKind.ANSWER, "sub", "8 to 6")
    assert (next_step(ivr, "main", "2", tries=0).kind, next_step(ivr, "main", "2", tries=0).team) == (
        StepKind.ROUTE,
        "billing",
    )
    assert next_step(ivr, "sub", "0", tries=0).team == "support"
    # a wrong key or silence: the menu again, twice; the third time, a person
    assert next_step(ivr, "main", "7", tries=0).kind == StepKind.RETRY
    assert next_step(ivr, "main", "", tries=1).kind == StepKind.RETRY
    last = next_step(ivr, "main", "", tries=2)
    assert (last.kind, last.team, last.option) == (StepKind.ROUTE, "support", None)
