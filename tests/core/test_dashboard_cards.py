"""Each dashboard card shows its numbers once (issue 20): every figure is a
link to the list it counts, with a small bar for the by-status counts — not
a list and then a chart of the same figures."""
from __future__ import annotations

import re

from tests.conftest import login_as


def _cards(html: str) -> list[str]:
    return re.findall(r'<section class="col-12 col-md-6 col-xl-3".*?</section>', html, flags=re.S)


def test_each_figure_is_shown_once_as_a_link_with_a_bar(demo, client):
    login_as(client, "admin", "itaku-demo-2026")
    html = client.get("/").get_data(as_text=True)
    cards = _cards(html)
    assert len(cards) >= 4
    for card in cards:
        assert 'role="img"' not in card and "<text" not in card  # no second rendering as a chart
        labels = re.findall(r'<a class="tile-link" href="[^"]+">(?:<span aria-hidden="true">⚠ </span>)?([^<]+)</a>', card)
        assert labels, card[:200]
        for label in labels:
            assert card.count(f">{label}<") == 1, f"{label} shown more than once"
    vendors = next(card for card in cards if 'href="/vendors/"' in card)
    assert re.search(r'<a class="tile-link" href="/vendors/\?status=active">取引中</a>\s*'
                     r'<span class="fw-bold">\d+</span>', vendors)
    assert 'class="tile-bar"' in vendors
