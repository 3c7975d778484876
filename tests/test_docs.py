"""The README is a front page that fits on two screens; the details live in docs/, and every link resolves.

Links are checked the way GitHub renders them: a relative path must name a file of this repository, and a
`#anchor` must be the slug of a heading of the file it points into.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 150
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *PAGES]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
"""An inline markdown link or image, ``[text](target "title")``; the text may hold one level of brackets."""
ABSENT_FROM_A_CLONE = ("../shared", "shared/upstream")
"""Folders beside the project's own checkouts that a clone of the repository does not have."""


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code spans, where brackets are not links."""
    text = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text)


def _headings(text: str) -> list[str]:
    without_code = re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.findall(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", without_code, flags=re.MULTILINE)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped except `-` and `_`, spaces to `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps only its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a markdown file: repeated headings get -1, -2, ... as on GitHub."""
    seen: Counter[str] = Counter()
    result = set()
    for heading in _headings(path.read_text()):
        base = slug(heading)
        result.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return result


def _relative_links(path: Path) -> list[str]:
    targets = LINK.findall(_prose(path.read_text()))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto:


def test_the_slug_rule_matches_github() -> None:
    assert slug("Trained agents: ours beside the authors'") == "trained-agents-ours-beside-the-authors"
    assert slug("A readable `dvc exp show`") == "a-readable-dvc-exp-show"
    assert slug("Earlier runs: why `logits`, and what splits a coordinate") == (
        "earlier-runs-why-logits-and-what-splits-a-coordinate"
    )
    assert slug("The published training logs (Zenodo)") == "the-published-training-logs-zenodo"


def test_the_readme_fits_on_two_screens() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move details to docs/"


def test_the_details_are_docs_pages_linked_from_the_readme() -> None:
    assert PAGES, "no docs/*.md"
    linked = {(README.parent / t.split("#")[0]).resolve() for t in _relative_links(README)}
    unlinked = [page.name for page in PAGES if page.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in _relative_links(document):
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.is_relative_to(ROOT) or not linked.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pointer_at_files_a_clone_lacks(document: Path) -> None:
    text = document.read_text()
    found = [folder for folder in ABSENT_FROM_A_CLONE if folder in text]
    assert not found, f"{document.relative_to(ROOT)} points at {found}, which a clone does not have"
