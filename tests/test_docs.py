"""docs/ODD.md stays in step with the code: generated tables, evidence for every parameter.

The tables of docs/ODD.md between ``<!-- name:start -->`` and ``<!-- name:end -->``
are rendered from the schema and the code by ``sim.docs``; these tests fail when
the document is stale, when a parameter is declared without its role or without
saying what evidence (or assumption) it rests on, and when the document cites a key
it does not define.
"""

from __future__ import annotations

import re

import pytest

import sim
from sim import docs
from sim.paramspec import ROLES, evidence_keys

FIX = "run `uv run python -m sim.docs`"


@pytest.fixture(scope="module")
def odd() -> str:
    return docs.ODD_PATH.read_text(encoding="utf-8")


def references(text: str) -> set[str]:
    """Keys defined in the References section: list items starting with **[KEY]**."""
    match = re.search(r"^## References\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "docs/ODD.md has no '## References' section"
    return set(re.findall(r"^- \*\*\[([A-Za-z][A-Za-z0-9]*)\]\*\*", match.group(1), re.M))


@pytest.mark.parametrize("block", list(docs.BLOCKS))
def test_generated_block_is_fresh(odd: str, block: str) -> None:
    """(a) Each generated table in docs/ODD.md equals a fresh rendering."""
    assert docs.extract(odd, block) == docs.BLOCKS[block]().strip("\n"), (
        f"the '{block}' table in docs/ODD.md is out of date: {FIX}")


def test_update_is_idempotent(odd: str) -> None:
    once = docs.update(odd)
    assert docs.update(once) == once


def test_parameter_table_lists_every_field_with_its_role(odd: str) -> None:
    table = docs.extract(odd, "params")
    rows = {line.split(" | ")[0][3:-1]: line.split(" | ") for line in table.splitlines()
            if line.startswith("| `")}
    missing = [p.key for p in sim.parameters() if p.key not in rows]
    assert not missing, f"parameters missing from docs/ODD.md: {missing}; {FIX}"
    header = next(line for line in table.splitlines() if line.startswith("| key |"))
    role_column = header.split(" | ").index("role")
    for p in sim.parameters():
        assert rows[p.key][role_column] == p.role, p.key


def test_every_field_has_evidence_and_a_role() -> None:
    """(b) No parameter without its role and evidence, or an explicit 'Assumption'."""
    problems = docs.declaration_problems()
    assert not problems, "sim/config.py declarations:\n  " + "\n  ".join(problems)
    assert all(p.role in ROLES and p.evidence for p in sim.parameters())


def test_declaration_problems_are_found() -> None:
    """The checks of (b) catch what they should (a broken declaration, checked alone)."""
    from dataclasses import replace

    from sim.paramspec import problems

    good = sim.config.parameter("context.initial_trust")
    assert problems(good) == []
    broken = {
        "needs a plausible range": replace(good, plausible=None),
        "leaves the allowed range": replace(good, plausible=(-0.1, 0.5)),
        "does not contain the default": replace(good, plausible=(0.5, 0.6)),
        "is not one of": replace(good, role="policy"),
        "unknown word": replace(good, evidence="[AG08]; Guess"),
        "carries the status": replace(good, evidence="[AG08]; Lever"),
        "exactly one status word": replace(good, evidence="[AG08]"),
        "no unit": replace(good, unit=""),
    }
    for words, p in broken.items():
        assert any(words in problem for problem in problems(p)), (words, problems(p))


def test_evidence_keys_are_defined(odd: str) -> None:
    """(c) Every evidence key a parameter cites is defined in the ODD's references."""
    defined = references(odd)
    used = {k for p in sim.parameters() for k in evidence_keys(p.evidence)}
    undefined = sorted(used - defined)
    assert not undefined, (f"evidence keys {undefined} are cited in sim/config.py but not "
                           f"defined in the References section of docs/ODD.md "
                           f"(defined: {sorted(defined)})")


def test_keys_cited_in_the_text_are_defined(odd: str) -> None:
    """Citations in the prose, e.g. [M23] or [HF17], are all defined too."""
    defined = references(odd)
    cited = set(re.findall(r"\[([A-Z][A-Za-z]*\d{2}|CAL)\](?!\()", odd))
    assert cited - defined == set(), f"cited but not defined: {sorted(cited - defined)}"


def test_every_status_word_and_role_is_explained(odd: str) -> None:
    """The status words and roles of the parameter tables are the ones the ODD explains."""
    for word in [*docs.STATUSES, *ROLES]:
        assert f"**{word}**" in odd, f"docs/ODD.md does not explain '{word}'"
