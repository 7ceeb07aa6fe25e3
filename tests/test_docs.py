"""The README documents what the code does: schemas, commands, options."""
from __future__ import annotations

import re

from schemas import schema_markdown
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```\n(.*?)```", README, re.S).group(1)
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "demo"], ["make", "test"]]


def test_readme_schema_section_matches_schemas():
    block = README.split("<!-- schemas:begin -->", 1)[1].split("<!-- schemas:end -->", 1)[0]
    assert block.strip() == schema_markdown().strip()


def test_readme_lists_every_run_option():
    import argparse

    from pipelines.options import NewsbeamOptions

    parser = argparse.ArgumentParser()
    NewsbeamOptions._add_argparse_args(parser)
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert f"`{action.option_strings[0]}" in README, action.option_strings[0]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_readme_layout_section_matches_the_package_tree():
    from tests.layout_doc import BEGIN, END, layout_markdown

    block = README.split(BEGIN, 1)[1].split(END, 1)[0]
    assert block.strip() == layout_markdown().strip(), "run: python -m tests.layout_doc"
