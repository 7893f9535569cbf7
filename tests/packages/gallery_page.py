"""A store gallery's cards as its page carries them: the JSON data block the page's script renders
(content_assets/packages/gallery.py, GalleryCard.as_data), for tests that read the page without a
browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_BLOCK = '<script type="application/json" id="gallery-data">'


def gallery_data(html: str) -> dict[str, Any]:
    start = html.index(_BLOCK) + len(_BLOCK)
    return json.loads(html[start:html.index("</script>", start)])


def gallery_cards(root: Path) -> dict[tuple[int, str | None], dict[str, Any]]:
    """(product, variant or None) -> its card: n number, v variant, s status, t title, d the
    title's disclosure, m the product name where it differs, p price, i has a thumbnail, x notes."""
    cards = gallery_data((root / "index.html").read_text())["cards"]
    return {(card["n"], card.get("v")): card for card in cards}
