"""The seller's `detailContent`: untrusted HTML made safe for a blog post, and the video it embeds.

Sanitizing is nh3 (the Rust `ammonia` sanitizer) with an allow-list: formatting, lists, tables,
links and inline styles from a short list of properties survive; scripts, iframes, forms, event
handlers, `javascript:` URLs and `<style>` blocks do not. Images are dropped too: the blog editor
takes uploads only, and the package already carries every product image as an upload placeholder.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "a", "b", "blockquote", "br", "caption", "div", "em", "h3", "h4", "hr", "i", "li", "ol", "p", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "*": {"style"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Layout-neutral typography only: nothing that positions, hides or loads (position, display, background).
ALLOWED_STYLE_PROPERTIES = frozenset({
    "color", "background-color", "font-size", "font-style", "font-weight", "line-height", "text-align",
    "text-decoration", "vertical-align", "border", "border-collapse", "padding", "margin", "width",
})
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Values no property on the list needs; old browsers ran code from them.
_DANGEROUS_STYLE_VALUE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|\\", re.IGNORECASE)


# Control characters (C0 and DEL, but tab and line breaks) and the bidirectional formatting marks
# (LRE..RLO, the isolates, LRM/RLM): inert in HTML, but a right-to-left override turns
# "정품 gnp.exe" into something else on screen, and NUL or ESC breaks what the post is pasted into.
_INVISIBLE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(value: object) -> object:
    """`value` without control and bidi formatting characters, if it is text (Markup stays Markup);
    every value a post or the gallery prints passes through here (the templates' `finalize`)."""
    if isinstance(value, Markup):
        return Markup(_INVISIBLE_CONTROLS.sub("", value))
    if isinstance(value, str):
        return _INVISIBLE_CONTROLS.sub("", value)
    return value


def _drop_dangerous_styles(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style" and _DANGEROUS_STYLE_VALUE.search(value):
        return None
    return value


_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
                        "form", "select", "textarea", "video", "audio"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_drop_dangerous_styles,
    url_schemes=set(URL_SCHEMES),
    filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitize_detail_html(html: str | None) -> str:
    """Safe formatting kept, everything active removed; the result is inert in any browser."""
    return _cleaner.clean(html or "")


class _VideoFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_video = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "video":
            self._in_video = True
            if values.get("src"):
                self.urls.append(values["src"] or "")
        elif tag == "source" and self._in_video and values.get("src"):
            self.urls.append(values["src"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "video":
            self._in_video = False


def find_video_url(html: str | None) -> str | None:
    """The first http(s) video the seller embedded (`<video src>` or its `<source src>`), if any.

    The product detail API has no video field; sellers embed product videos in the detail page.
    """
    if not html or "<video" not in html.lower():
        return None
    finder = _VideoFinder()
    finder.feed(html)
    finder.close()
    for url in finder.urls:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
    return None
