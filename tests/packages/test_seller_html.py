"""Seller HTML: hostile markup comes out inert, formatting survives, and the embedded video is found."""

from commerce_emulator.seller_quirks import HOSTILE_DETAIL_HTML
from content_assets.packages.seller_html import find_video_url, sanitize_detail_html
from tests.support.html_checks import active_content, tags_of


def test_hostile_detail_content_comes_out_inert():
    clean = sanitize_detail_html(HOSTILE_DETAIL_HTML)
    assert active_content(clean) == []
    assert "alert" not in clean and "evil.example" not in clean and "document.cookie" not in clean
    # The text a reader should still see survives, the links that were scripts lose their href.
    assert "지금 클릭하면 쿠폰 증정!" in clean and "쿠폰 받기" in clean
    assert 'href="https://smartstore.naver.com/"' in clean
    assert clean.count("href=") == 1


def test_safe_formatting_and_inline_typography_are_kept():
    source = ('<div class="se-main"><p style="text-align:center; position:fixed; color:#e4002b">'
              '<b>굵게</b> <i>기울임</i> <u>밑줄</u></p><ul><li>하나</li></ul>'
              '<table border="1"><tbody><tr><th>원산지</th><td colspan="2">국내산</td></tr></tbody></table></div>')
    clean = sanitize_detail_html(source)
    assert 'style="text-align:center;color:#e4002b"' in clean  # position is dropped, the rest kept
    assert {"b", "i", "u", "ul", "li", "table", "th", "td"} <= set(tags_of(clean))
    assert 'colspan="2"' in clean
    assert "class=" not in clean and "border=" not in clean


def test_images_in_the_detail_are_dropped_because_the_package_uploads_them():
    clean = sanitize_detail_html('<p><img src="https://shop-phinf.pstatic.net/a.jpg" alt="a">설명</p>')
    assert "<img" not in clean and "설명" in clean


def test_style_values_that_load_or_run_something_drop_the_style():
    clean = sanitize_detail_html('<p style="color:red; background-color: url(https://x/y.png)">a</p>')
    assert "style" not in clean


def test_the_embedded_video_is_the_first_http_source():
    html = ('<p><video controls src="javascript:alert(1)"><source src="https://cdn.example/v/1.mp4" '
            'type="video/mp4"></video></p><video src="https://cdn.example/v/2.mp4"></video>')
    assert find_video_url(html) == "https://cdn.example/v/1.mp4"
    assert find_video_url("<p>no video</p>") is None
    assert find_video_url('<source src="https://cdn.example/outside-a-video.mp4">') is None
    assert find_video_url(None) is None


def test_control_and_bidi_characters_are_stripped_and_markup_stays_markup():
    from markupsafe import Markup

    from content_assets.packages.seller_html import strip_controls

    assert strip_controls("\u202e정품\u0000 가방\tA\u2066\u200f\x1b") == "정품 가방\tA"
    cleaned = strip_controls(Markup("<p>\u202egnp.exe</p>"))
    assert isinstance(cleaned, Markup) and cleaned == Markup("<p>gnp.exe</p>")
    assert strip_controls(12) == 12
