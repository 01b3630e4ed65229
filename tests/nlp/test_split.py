from __future__ import annotations

import pytest

from themer.nlp.split import StatementSplitter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Love the dashboards, but exports are painfully slow. Support is great!",
         ["Love the dashboards", "exports are painfully slow", "Support is great"]),
        ("great app but slow", ["great app but slow"]),  # too little content to split
        ("The product is solid. However the pricing went up a lot this year",
         ["The product is solid", "However the pricing went up a lot this year"]),
        ("ok", ["ok"]),
        ("   ", []),
        ("", []),
    ],
)
def test_statements(splitter: StatementSplitter, text: str, expected: list[str]) -> None:
    spans = splitter.split(text)
    assert [s.text for s in spans] == expected
    for span in spans:
        assert text[span.start:span.end] == span.text


def test_offsets_survive_odd_whitespace(splitter: StatementSplitter) -> None:
    text = "  Search  is broken.\n\nThe API is great although the docs are thin and outdated "
    spans = splitter.split(text)
    assert len(spans) == 3
    assert all(text[s.start:s.end] == s.text for s in spans)
    assert spans[-1].text == "the docs are thin and outdated"


def test_split_many_keeps_order(splitter: StatementSplitter) -> None:
    texts = ["a b c. d e f.", "", "x"]
    result = list(splitter.split_many(texts))
    assert [len(r) for r in result][1:] == [0, 1]
