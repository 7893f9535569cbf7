"""What "inert HTML" means for the package tests, checked with the standard library's parser."""

from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "style", "link", "meta", "base", "form", "input",
               "button", "svg", "math", "video", "audio", "source", "template", "noscript"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href"}


class ActiveContent(HTMLParser):
    """Collects everything in a document that could run code or load something unasked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ACTIVE_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if name in ("class", "id"):
                self.problems.append(f"<{tag} {name}> (the blog editor keeps inline styles only)")
            if name in URL_ATTRIBUTES and value.lower().replace("\x00", "").lstrip().startswith(
                    ("javascript:", "vbscript:", "data:")):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and any(bad in value.lower() for bad in ("url(", "expression(", "javascript:")):
                self.problems.append(f"<{tag} style={value!r}>")

    handle_startendtag = handle_starttag


def active_content(html: str, *, document: bool = False) -> list[str]:
    """Problems found; `document=True` allows what a whole page needs (<meta charset>, ids)."""
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    problems = parser.problems
    if document:  # a page of its own, not blog content: <meta charset> and ids are fine
        problems = [p for p in problems if p != "<meta>" and " id>" not in p]
    return problems


def tags_of(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.tags
