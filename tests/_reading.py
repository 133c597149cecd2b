"""What a headteacher would trip over: contradictions and clumsy wording in what people read.

The checks are the ones an independent reading of the demo's packs and exports found
(#16); each returns human-readable problems, so a failing test says what and where.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = r"[-−+]?\d+(?:\.\d+)?"
#: "<now sentence>, up from 8%" / ", down from 200": the value after "from" is last week's.
_CHANGE = re.compile(r"^(.*), (up|down) from ([-−]?\d+(?:\.\d+)?)(%| pp)?")
#: A figure of the sentence; not one that names its window ("in the last 2 weeks").
_FIGURE = re.compile(
    r"(?<![\d.])([-−]?\d+(?:\.\d+)?)(?![\d.])(%| pp)?(?! (?:school )?(?:weeks?|months?|years?)\b)"
)
#: Nouns that must not follow a bare "1" (wrong plural).
_PLURAL_AFTER_ONE = re.compile(
    r"\b1 (?:[a-z]+ )?(absences|suspensions|exclusions|sessions|days|weeks|episodes|moves|"
    r"referrals|schools|times|months|years|marks|plans|children|pupils)\b"
)
#: Text that belongs to codes or to analysts, not to a page a person reads.
_PAGE_PATTERNS = {
    "hedged plural such as 'suspension(s)'": re.compile(r"[a-z]\(s\)"),
    "a difference of percentages given in % (should be percentage points)": re.compile(
        rf"(?<![\w.]){_NUMBER.replace('?', '', 0)}% \(\d+(?:\.\d+)?% vs"
    ),
    "a signed percentage given for a difference": re.compile(r"(?<![\w(])[-−+]\d+(?:\.\d+)?% "),
    "a figure shown as 0.000": re.compile(r"(?<![\d.])0\.000\b"),
    "a rate shown as 0.0%": re.compile(r"(?<![\d.])0\.0%"),
    "an internal caveat": re.compile(r"not re-verified|TODO|FIXME|NotImplemented"),
    "a raw code for free school meals": re.compile(r"Free school meals: [01]\b"),
    "a raw SEN code": re.compile(r"\b[KEN] \((?:SEN support|EHC plan|no SEN)\)"),
    "a raw code with its meaning in brackets": re.compile(r"\b[01] \((?:not )?eligible\)"),
    "nan or None shown to a reader": re.compile(r"(?<![\w-])(?:nan|NaN|None)(?![\w-])"),
}


def sentence_problems(sentence: str) -> list[str]:
    """Problems in one sentence (a reason, protective factor or change)."""
    problems = []
    if re.search(r"\b(?:up|down) from (?:rose|fell|was)\b", sentence):
        problems.append(f"a change that does not parse: {sentence!r}")
    change = _CHANGE.match(sentence)
    if change:
        now_text, _, before, unit = change.groups()
        # The figures of this week's sentence in the same unit as last week's value: one
        # of them equal to it means the change is not visible at the shown precision.
        same_unit = [
            float(v.replace("−", "-")) for v, u in _FIGURE.findall(now_text) if u == (unit or "")
        ]
        if float(before.replace("−", "-")) in same_unit:
            problems.append(f"a change that is not one: {sentence!r}")
    match = _PLURAL_AFTER_ONE.search(sentence)
    if match:
        problems.append(f"wrong plural ({match.group(0)!r}): {sentence!r}")
    if re.match(r"\s*Aged \d", sentence):
        problems.append(f"age given as a reason: {sentence!r}")
    return problems + page_problems(sentence)


def reasons_problems(reasons: Iterable[str]) -> list[str]:
    """Problems in one child's list of reasons, in order."""
    reasons = list(reasons)
    problems = [p for r in reasons for p in sentence_problems(r)]
    if reasons and reasons[0].startswith("School context"):
        problems.append(f"a school fact is the child's first reason: {reasons[0]!r}")
    return problems


def page_problems(text: str) -> list[str]:
    """Problems anywhere in the text of a page (tags already removed)."""
    return [
        f"{what}: …{text[max(0, m.start() - 40) : m.end() + 40]!s}…"
        for what, pattern in _PAGE_PATTERNS.items()
        for m in [pattern.search(text)]
        if m
    ]


def html_text(page: str) -> str:
    """The visible text of an HTML page: no styles, tags or entities."""
    import html

    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def html_reason_lists(page: str) -> list[list[str]]:
    """The reasons of every child in a pack: the first list in each ``why`` cell."""
    import html

    lists = []
    for cell in re.findall(r'<td class="why">(.*?)</td>', page, flags=re.S):
        first = re.search(r"<ul>(.*?)</ul>", cell, flags=re.S)
        if first:
            items = re.findall(r"<li>(.*?)</li>", first.group(1), flags=re.S)
            lists.append([html.unescape(item) for item in items])
    return lists
