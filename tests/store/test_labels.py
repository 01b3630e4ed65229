"""Labels in the store (SQLite and PostgreSQL): one current label per (statement, taxonomy
version), a batch naming a missing statement writes nothing, statements shown in context."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select

from themer.errors import InputFileError
from themer.store.labels import (
    LabelIn,
    label_counts,
    labelled_ids,
    save_labels,
    statement_contexts,
    store_statements,
    stored_labels,
)
from themer.store.models import LabelRow, StatementRow
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[2]
COMMENT = "Search never finds anything. Billing is confusing."


def _store(url: str) -> tuple[Store, int, list[int]]:
    """A store with one response split into two statements, and the taxonomy's version id."""
    store = Store.open(url)
    info = load_taxonomy(ROOT / "taxonomy.yaml")
    version = store.activate_taxonomy(info, (ROOT / "taxonomy.yaml").read_text("utf-8"))
    response = store.ingest([ResponseIn(id="r1", score=3, comments={"reason": COMMENT})])[0]
    with store.sessions.begin() as session:
        ids = list(session.scalars(insert(StatementRow).returning(StatementRow.id), [
            {"response_id": response.id, "question": "reason", "start": 0, "end": 28,
             "text": COMMENT[:28]},
            {"response_id": response.id, "question": "reason", "start": 29,
             "end": len(COMMENT), "text": COMMENT[29:]}]))
    return store, version.id, ids


def test_one_current_label_per_statement_and_version(store_url: str) -> None:
    store, version, (first, second) = _store(store_url)
    assert save_labels(store, [LabelIn(first, version, ("search",), "bug"),
                               LabelIn(second, version, ("billing",), None, "Invoices")],
                       "ann") == 2
    assert save_labels(store, [LabelIn(first, version, (), "other")], "bob") == 1  # relabel
    labels = {label.statement_id: label for label in stored_labels(store, version)}
    assert labels[first].areas == ()
    assert labels[first].type == "other"
    assert labels[first].labelled_by == "bob"
    assert labels[second].new_theme == "Invoices"
    assert labels[second].text == COMMENT[29:]
    assert labels[second].labelled_at is not None
    assert labelled_ids(store, version) == {first, second}
    assert label_counts(store, version) == {"labels": 2, "labellers": 2}
    with store.sessions() as session:
        assert len(session.scalars(select(LabelRow.id)).all()) == 2


def test_a_label_of_a_missing_statement_writes_nothing(store_url: str) -> None:
    store, version, (first, _) = _store(store_url)
    with pytest.raises(InputFileError, match=r"labels\.csv, row 3, column "
                       r"'statement_id': statement 424242 is not in the store") as caught:
        save_labels(store, [LabelIn(first, version, ("search",), "bug"),
                            LabelIn(424242, version, ("search",), "bug",
                                    where="labels.csv, row 3")], "ann")
    assert caught.value.code == "THM189"
    assert label_counts(store, version)["labels"] == 0


def test_statements_in_context_and_deleted_statements_lose_their_labels(store_url: str
                                                                        ) -> None:
    store, version, (first, second) = _store(store_url)
    shown = statement_contexts(store, [second, 999])
    assert set(shown) == {second}
    assert shown[second].comment == COMMENT
    assert shown[second].comment[shown[second].start:shown[second].end] == shown[second].text
    assert shown[second].source_response_id == "r1"
    assert store_statements(store, 1)["statement_id"].tolist() == [str(first)]
    save_labels(store, [LabelIn(second, version, ("billing",), None)], "ann")
    with store.sessions.begin() as session:
        session.execute(delete(StatementRow).where(StatementRow.id == second))
    assert stored_labels(store, version) == []
