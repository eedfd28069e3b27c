"""The committed model tables in docs/ are generated from the model specifications."""

from pathlib import Path

import pytest

from dermatwin.docs import pages

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(("rel", "text"), sorted(pages().items()))
def test_model_page_is_up_to_date(rel, text):
    committed = (DOCS / rel).read_text()
    assert committed == text, f"docs/{rel} is stale: run `make docs`"
