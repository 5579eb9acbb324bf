"""docs/ODD.md stays in step with the code: generated tables, evidence for every parameter.

The tables of docs/ODD.md between ``<!-- name:start -->`` and ``<!-- name:end -->``
are rendered from the schema and the code by ``sim.docs``; these tests fail when
the document is stale, when a parameter is added without saying what evidence (or
assumption) it rests on, and when the document cites a key it does not define.
"""

from __future__ import annotations

import re

import pytest

from sim import docs

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


def test_parameter_table_lists_every_field(odd: str) -> None:
    table = docs.extract(odd, "params")
    missing = [k for k in docs.field_keys() if f"| `{k}` |" not in table]
    assert not missing, f"parameters missing from docs/ODD.md: {missing}; {FIX}"


def test_every_field_has_evidence() -> None:
    """(b) No parameter without its evidence, or an explicit 'Assumption'."""
    problems = docs.evidence_problems()
    assert not problems, "sim/docs.py EVIDENCE:\n  " + "\n  ".join(problems)


def test_evidence_keys_are_defined(odd: str) -> None:
    """(c) Every evidence key used in EVIDENCE is defined in the ODD's references."""
    defined = references(odd)
    used = {k for entry in docs.EVIDENCE.values() for k in docs.evidence_keys(entry)}
    undefined = sorted(used - defined)
    assert not undefined, (f"evidence keys {undefined} are used in sim/docs.py but not "
                           f"defined in the References section of docs/ODD.md "
                           f"(defined: {sorted(defined)})")


def test_keys_cited_in_the_text_are_defined(odd: str) -> None:
    """Citations in the prose, e.g. [M23] or [HF17], are all defined too."""
    defined = references(odd)
    cited = set(re.findall(r"\[([A-Z][A-Za-z]*\d{2}|CAL)\](?!\()", odd))
    assert cited - defined == set(), f"cited but not defined: {sorted(cited - defined)}"


def test_every_status_word_is_explained(odd: str) -> None:
    """The status words of the evidence column are the ones the ODD explains."""
    for word in docs.STATUSES:
        assert f"**{word}**" in odd, f"docs/ODD.md does not explain the status '{word}'"
