"""The README and docs/ name nothing the repository lacks: every relative link resolves to a file,
every #anchor to a heading of its target (GitHub's rule), every repository path in code names a
file that exists, every `make` target is in the Makefile and every `atp` command is one."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Other documents whose links point into these (checked for their links only).
LINKING = [ROOT / "bench" / "README.md", ROOT / "dbt_project" / "README.md"]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]+`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A path inside the repository, as written in code: `bench/README.md`, `tests/test_daemon.py`.
REPO_PATH = re.compile(r"^[\w.-]+(?:/[\w.*-]+)+\.(?:md|py|ya?ml|toml|json|service)$")
GENERATED = ("data/", ".dagster/", "DIR/")


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans: where links and headings live."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _code(text: str) -> list[str]:
    """The fenced blocks and the code spans."""
    return FENCE.findall(text) + CODE_SPAN.findall(FENCE.sub("", text))


def _anchors(path: Path) -> set[str]:
    """GitHub's heading ids: lowercase, punctuation dropped (except - and _), spaces to -."""
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
            base, n = slug, 1
            while slug in found:
                slug, n = f"{base}-{n}", n + 1
            found.add(slug)
    return found


def _links() -> list[tuple[Path, str]]:
    docs = [*DOCS, *LINKING]
    return [(doc, target) for doc in docs for target in LINK.findall(_prose(doc.read_text()))]


def test_the_docs_exist():
    assert {p.name for p in DOCS} >= {
        "README.md",
        "operations.md",
        "analyst-guide.md",
        "architecture.md",
    }


@pytest.mark.parametrize("doc,target", _links(), ids=lambda v: str(v).replace(str(ROOT), ""))
def test_every_link_resolves(doc, target):
    if re.match(r"[a-z]+:", target):  # https:, mailto:
        return
    file, _, anchor = target.partition("#")
    path = (doc.parent / file).resolve() if file else doc
    assert path.exists(), f"{doc.name}: {target}: no such file"
    if anchor:
        assert path.suffix == ".md", f"{doc.name}: {target}"
        assert anchor in _anchors(path), f"{doc.name}: {target}: no such heading"


def test_every_repository_path_named_in_code_exists():
    for doc in DOCS:
        for code in _code(doc.read_text()):
            for word in re.findall(r"[\w./*-]+", code):
                if REPO_PATH.match(word) and not word.startswith(GENERATED):
                    assert list(ROOT.glob(word)), f"{doc.name} names {word}, which is missing"


def test_every_make_target_named_exists():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = {
        name
        for doc in DOCS
        for code in _code(doc.read_text())
        for name in re.findall(r"\bmake ([a-z][\w-]*)", code)
    }
    assert named, "no `make` command named"
    assert named <= targets, named - targets


def test_every_atp_command_named_exists():
    from orchestration.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    named = {
        name
        for doc in DOCS
        for code in _code(doc.read_text())
        for name in re.findall(r"(?:^|[\s/`])atp ([a-z][\w-]*)", code, re.M)
    }
    assert named, "no `atp` command named"
    assert named <= set(sub.choices), named - set(sub.choices)
