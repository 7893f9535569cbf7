"""What goes into a content package: the rendered post, its preview, its meta, and a content hash.

Planning needs no network: the content hash covers the product, the variant's templates and the
package settings, so it is known before any image is downloaded, and an unchanged package costs
one render and one hash (or, planned before, a hash of its inputs); nothing is fetched or
written. Once the pictures are ready, the post is rendered again with them (a broken video drops
its keyframes) and the meta gains their hashes.
A picture that could not be had is left out (`PackageRenderer.without`): the plan then has a
content hash of its own, so the package written without it is rebuilt once it arrives.

A plan's inputs have a key of their own (`PackageRenderer.inputs_key`: the product row, the
variant's template version, the settings, and this planning code with the libraries that shape a
post). The writer keeps which content hash the last plan of those inputs had, so a package
staged during the sync, or one that is unchanged, is found again without rendering it
(`PackageRenderer.unrendered`); any change to those inputs, code included, makes a new key, and
the package is planned and rendered as usual.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import jinja2.meta
import pyarrow as pa
from markupsafe import Markup, escape

from content_assets.packages.media.normalize import NormalizeSettings
from content_assets.packages.media.keyframes import DEFAULT_KEYFRAMES
from content_assets.packages.archive import DEFAULT_DEFLATE_LEVEL
from content_assets.packages.seller_html import find_video_url, sanitize_detail_html, strip_controls

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE_SUFFIX = ".html.j2"
PREVIEW_TEMPLATE = "_preview.html.j2"
DEFAULT_VARIANT = "default"
DEFAULT_DISCLOSURE = "이 포스팅은 판매자로부터 경제적 대가를 받아 작성되었습니다. (경제적 이해관계 표시)"
# The disclosure at the front of a post title. The guideline wants a title disclosure whole, so it
# leads the title (where neither a cut nor a search result's ellipsis can reach it) and a clamp
# shortens the name after it, never the disclosure.
DEFAULT_TITLE_DISCLOSURE = "[광고]"
# Smart Store product names are at most 100 characters, so only the oversized names of a store
# that bypassed that (or a long SEO page title) are clamped.
DEFAULT_TITLE_NAME_MAX_CHARS = 100
# What a placeholder in post.html looks like: "[사진 3: images/03.jpg]", "[사진 7 · 영상 장면: keyframes/01.jpg]".
PLACEHOLDER = re.compile(r"\[사진 (\d+)(?: · 영상 장면)?: ((?:images|keyframes)/\d{2}\.jpg)\]")
# Bump when the package's shape changes in a way the templates' text does not show (file
# layout, meta fields, placeholder markup, zip contents). 3: meta.json lists missingImages.
# 4: meta.json's title carries the title disclosure, and titleDisclosure says which.
# 5: post.js, the post and its title for the gallery's copy button.
PACKAGE_FORMAT_VERSION = "5"
# The gallery is opened from file://, where a page may not fetch() a file but may load a script:
# post.js hands the post to the gallery by calling this function of the gallery's page.
POST_SCRIPT_FILE, POST_SCRIPT_CALLBACK = "post.js", "contentOpsPost"


@dataclass(frozen=True)
class PackageProduct:
    """The product fields a package is made of (a row of the `products` table)."""

    origin_product_no: int
    channel_product_no: int | None
    seller_management_code: str | None
    name: str
    status_type: str
    sale_price: int | None
    discounted_price: int | None
    stock_quantity: int | None
    modified_date: datetime
    category: str | None
    brand_name: str | None
    manufacturer_name: str | None
    model_name: str | None
    seller_tags: list[str] | None
    image_urls: list[str] | None
    detail_content: str | None
    page_title: str | None
    meta_description: str | None
    payload_hash: str

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(cls.__dataclass_fields__)


def load_package_products(con: duckdb.DuckDBPyConnection, numbers: Sequence[int]) -> dict[int, PackageProduct]:
    """The `products` rows of these product numbers, as packages are made of them."""
    if not numbers:
        return {}
    columns = PackageProduct.columns()
    con.register("wanted_products", pa.table({"origin_product_no": pa.array(list(numbers), pa.int64())}))
    try:
        rows = con.execute(
            f"SELECT {', '.join(columns)} FROM products JOIN wanted_products USING (origin_product_no)"
        ).fetchall()
    finally:
        con.unregister("wanted_products")
    return {row[0]: PackageProduct(*row) for row in rows}


@dataclass(frozen=True)
class PackageSettings:
    """Everything besides the product and the templates that shapes a package's bytes."""

    disclosure: str = DEFAULT_DISCLOSURE
    image: NormalizeSettings = field(default_factory=NormalizeSettings)
    keyframes: int = DEFAULT_KEYFRAMES
    zip_deflate_level: int = DEFAULT_DEFLATE_LEVEL
    title_disclosure: str | None = DEFAULT_TITLE_DISCLOSURE  # leads the post title; None: the body's box only
    title_name_max_chars: int = DEFAULT_TITLE_NAME_MAX_CHARS  # the name part of the title; the disclosure is extra

    def __post_init__(self) -> None:
        if not self.disclosure.strip():
            raise ValueError("the advertising disclosure must not be empty: Korean advertising rules require it")
        if self.title_disclosure is not None and not _one_line(str(strip_controls(self.title_disclosure))):
            raise ValueError("the title disclosure must not be empty; turn title_disclosure off instead")
        if self.title_name_max_chars < 10:
            raise ValueError(f"title_name_max_chars must be at least 10, got {self.title_name_max_chars}")
        if not 0 <= self.keyframes <= 20:
            raise ValueError(f"keyframes must be 0..20, got {self.keyframes}")
        if not 0 <= self.zip_deflate_level <= 9:
            raise ValueError(f"zip deflate level must be 0..9, got {self.zip_deflate_level}")

    @property
    def fingerprint(self) -> str:
        text = json.dumps(
            [PACKAGE_FORMAT_VERSION, self.disclosure, self.image.key, self.keyframes, self.zip_deflate_level,
             self.title_disclosure, self.title_name_max_chars],
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_meta(self) -> dict[str, Any]:
        return {"imageMaxWidth": self.image.max_width, "imageQuality": self.image.quality,
                "keyframes": self.keyframes, "zipDeflateLevel": self.zip_deflate_level,
                "titleNameMaxChars": self.title_name_max_chars}


@dataclass(frozen=True)
class PostTemplate:
    variant: str
    name: str  # the template file, e.g. review.html.j2
    version: str  # hash of its source, the sources it imports, and the package format
    template: jinja2.Template


class TemplateSet:
    """The post templates of a run, loaded once. Each variant is `<variant>.html.j2`; files starting
    with `_` are shared pieces. A custom folder is searched first, then the project's templates."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        folders = [Path(templates_dir)] if templates_dir else []
        folders.append(TEMPLATES_DIR)
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            finalize=strip_controls,
            # Loaded once per run (a changed template is the next run's): no stat of every
            # imported template at each of a run's thousand renders.
            auto_reload=False,
        )
        self._templates: dict[str, PostTemplate] = {}
        self.preview = self.environment.get_template(PREVIEW_TEMPLATE)

    def variants(self) -> list[str]:
        return sorted(
            name.removesuffix(TEMPLATE_SUFFIX)
            for name in self.environment.list_templates()
            if name.endswith(TEMPLATE_SUFFIX) and not name.startswith("_") and "/" not in name
        )

    def get(self, variant: str) -> PostTemplate:
        if variant not in self._templates:
            name = variant + TEMPLATE_SUFFIX
            if variant.startswith("_") or name not in self.environment.list_templates():
                raise ValueError(f"no template for variant {variant!r}; available: {', '.join(self.variants())}")
            self._templates[variant] = PostTemplate(variant, name, self._version(name),
                                                    self.environment.get_template(name))
        return self._templates[variant]

    def _version(self, name: str) -> str:
        """Changes when the template or anything it imports changes, and only then."""
        digest = hashlib.sha256(PACKAGE_FORMAT_VERSION.encode())
        seen: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            source, _, _ = self.environment.loader.get_source(self.environment, current)  # type: ignore[union-attr]
            digest.update(current.encode() + b"\0" + source.encode() + b"\0")
            parsed = self.environment.parse(source)
            pending.extend(sorted(ref for ref in jinja2.meta.find_referenced_templates(parsed) if ref))
        return digest.hexdigest()[:12]


@dataclass(frozen=True)
class PostImage:
    """A picture's place in the package: `images/01.jpg` or `keyframes/01.jpg`."""

    file: str
    kind: str  # image | keyframe
    number: int  # 1-based within its kind


class UploadSequence:
    """Hands out placeholders in the order the template asks for pictures: that is the order the
    person uploads them in the blog editor. In preview mode it hands out the pictures themselves."""

    def __init__(self, *, preview: bool) -> None:
        self.preview = preview
        self.files: list[str] = []

    def __call__(self, image: PostImage) -> Markup:
        self.files.append(image.file)
        position = len(self.files)
        # Numbered by upload position; a video still says so, since it has no product photo behind it.
        label = f"사진 {position}" if image.kind == "image" else f"사진 {position} · 영상 장면"
        # escape() and an f-string make what Markup.format makes, at a fifth of its cost.
        label, file = escape(label), escape(image.file)
        if self.preview:
            return Markup(f'<p style="margin: 12px 0; text-align: center;"><img src="{file}" alt="{label}" '
                          'style="max-width: 100%; height: auto;"></p>')
        return Markup('<p style="margin: 12px 0; padding: 24px 0; text-align: center; color: #888; '
                      f'border: 1px dashed #ccc;">[{label}: {file}]</p>')


@dataclass(frozen=True, order=True)
class MissingImage:
    """A product picture the package is built without, and why."""

    position: int  # 1-based in the product's image list; 1 is the representative image
    source_url: str
    reason: str  # one line

    def as_meta(self) -> dict[str, Any]:
        return {"position": self.position, "sourceUrl": self.source_url, "reason": self.reason}


def image_places(count: int) -> tuple[PostImage, ...]:
    """images/01.jpg .. images/NN.jpg: a package's product pictures are numbered without gaps."""
    return tuple(PostImage(f"images/{n:02d}.jpg", "image", n) for n in range(1, count + 1))


@dataclass(frozen=True)
class RenderedPostHtml:
    html: str
    upload_order: tuple[str, ...]


@dataclass(frozen=True)
class PackagePlan:
    """A package before any download: what it will hold and its content hash."""

    product: PackageProduct
    variant: str
    template: PostTemplate
    settings: PackageSettings
    images: tuple[PostImage, ...]
    image_urls: tuple[str, ...]
    video_url: str | None
    detail_html: Markup | None  # None: planned from its inputs' key, not rendered (see `unrendered`)
    content_hash: str
    # The post as planned (with keyframes for a video that may yet turn out broken): render()
    # uses it again when the keyframes are as planned, instead of rendering it a second time.
    planned_keyframes: tuple[PostImage, ...] = ()
    planned_post: RenderedPostHtml | None = None
    missing: tuple[MissingImage, ...] = ()  # left out of `images` and `image_urls` (see `without`)

    @property
    def origin_product_no(self) -> int:
        return self.product.origin_product_no


@dataclass(frozen=True)
class RenderedPost:
    post_html: str
    preview_html: str
    upload_order: tuple[str, ...]


class PackageRenderer:
    """Renders posts with the run's templates and settings."""

    def __init__(self, templates: TemplateSet, settings: PackageSettings) -> None:
        self.templates = templates
        self.settings = settings

    def plan(self, product: PackageProduct, variant: str = DEFAULT_VARIANT) -> PackagePlan:
        template = self.templates.get(variant)
        urls = tuple(url for url in product.image_urls or () if url)  # a listing without an image gives [NULL]
        images = image_places(len(urls))
        video_url = find_video_url(product.detail_content)
        # Seller-written HTML is untrusted: keep formatting, drop scripts, handlers, iframes.
        detail_html = Markup(sanitize_detail_html(product.detail_content))
        planned_keyframes = self.keyframe_images(self.settings.keyframes if video_url else 0)
        draft = PackagePlan(product, variant, template, self.settings, images, urls, video_url, detail_html, "")
        uploads = UploadSequence(preview=False)
        post_html = self._render_post(draft, planned_keyframes, uploads)
        digest = hashlib.sha256()
        # The image URLs too: a seller's new picture is a new URL (Naver's are upload-unique) with
        # the same placeholders, and a missing picture's URL is what a rebuild fetches again.
        for part in (post_html, json.dumps(self.base_meta(draft), sort_keys=True, ensure_ascii=False),
                     self.settings.fingerprint, video_url or "", json.dumps(urls)):
            digest.update(part.encode())
            digest.update(b"\0")
        return PackagePlan(product, variant, template, self.settings, images, urls, video_url, detail_html,
                           digest.hexdigest(), planned_keyframes, RenderedPostHtml(post_html, tuple(uploads.files)))

    def inputs_key(self, product: PackageProduct, variant: str = DEFAULT_VARIANT) -> str:
        """What `plan` makes of this product and variant depends on these inputs and on nothing
        else: equal keys, equal content hashes."""
        fields = [getattr(product, name) for name in PackageProduct.columns()]  # astuple() would deep-copy
        text = json.dumps([_planning_code_version(), variant, self.templates.get(variant).version,
                           self.settings.fingerprint, fields], ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def unrendered(self, product: PackageProduct, variant: str, content_hash: str) -> PackagePlan:
        """The plan of a product whose full content hash is known (from its inputs' key): all
        but the post, which is not rendered. Enough to find, publish and record the version
        already on disk; a package to be written is planned with `plan`."""
        urls = tuple(url for url in product.image_urls or () if url)
        return PackagePlan(product, variant, self.templates.get(variant), self.settings, image_places(len(urls)),
                           urls, find_video_url(product.detail_content), None, content_hash)

    @staticmethod
    def without(plan: PackagePlan, missing: Sequence[MissingImage]) -> PackagePlan:
        """The full plan with these pictures left out: the rest keep their order and are numbered
        from 01 again, so files, placeholders and the upload order stay contiguous. Its content
        hash is the full plan's plus what is missing and why: a package written without a picture
        is never taken for the full one, and the same pictures missing for the same reasons give
        the same hash, so rebuilding it unchanged writes nothing."""
        if plan.missing:
            raise ValueError("without() takes the full plan, not one already without pictures")
        if not missing:
            return plan
        missing = tuple(sorted(missing))
        gone = {item.position for item in missing}
        urls = tuple(url for position, url in enumerate(plan.image_urls, start=1) if position not in gone)
        digest = hashlib.sha256(plan.content_hash.encode() + b"\0" + json.dumps(
            [item.as_meta() for item in missing], sort_keys=True, ensure_ascii=False).encode())
        return replace(plan, images=image_places(len(urls)), image_urls=urls, content_hash=digest.hexdigest(),
                       planned_keyframes=(), planned_post=None, missing=missing)

    @staticmethod
    def keyframe_images(count: int) -> tuple[PostImage, ...]:
        return tuple(PostImage(f"keyframes/{n:02d}.jpg", "keyframe", n) for n in range(1, count + 1))

    def render(self, plan: PackagePlan, keyframes: Sequence[PostImage]) -> RenderedPost:
        if plan.detail_html is None:
            raise ValueError("an unrendered plan (planned from its inputs' key) cannot be rendered; plan() it")
        if plan.planned_post is not None and tuple(keyframes) == plan.planned_keyframes:
            post_html, upload_order = plan.planned_post.html, plan.planned_post.upload_order
        else:
            post_uploads = UploadSequence(preview=False)
            post_html = self._render_post(plan, keyframes, post_uploads)
            upload_order = tuple(post_uploads.files)
        preview_uploads = UploadSequence(preview=True)
        preview_post = self._render_post(plan, keyframes, preview_uploads)
        preview_html = self.templates.preview.render(title=post_title(plan.product, plan.settings).text,
                                                     post_html=Markup(preview_post))
        return RenderedPost(post_html, preview_html, upload_order)

    def _render_post(self, plan: PackagePlan, keyframes: Sequence[PostImage], upload: UploadSequence) -> str:
        product = plan.product
        attributes = [
            (label, value)
            for label, value in (
                ("브랜드", product.brand_name),
                ("제조사", product.manufacturer_name),
                ("모델명", product.model_name),
                ("카테고리", product.category),
            )
            if value
        ]
        return plan.template.template.render(
            product=product,
            title=_title(product),
            images=list(plan.images),
            keyframes=list(keyframes),
            upload=upload,
            attributes=attributes,
            detail_html=plan.detail_html,
            tags=product.seller_tags or [],
            disclosure=plan.settings.disclosure,
        )

    def base_meta(self, plan: PackagePlan) -> dict[str, Any]:
        """The meta fields known before downloading (the content hash covers these)."""
        product = plan.product
        title = post_title(product, plan.settings)
        return {
            "title": title.text,  # pasted as it is: the disclosure whole, nothing invisible in it
            "titleDisclosure": title.disclosure,
            "name": product.name,
            "tags": [strip_controls(tag) for tag in product.seller_tags or []],
            "category": product.category,
            "originProductNo": product.origin_product_no,
            "channelProductNo": product.channel_product_no,
            "sellerManagementCode": product.seller_management_code,
            "modifiedDate": product.modified_date.isoformat(),
            "price": {"salePrice": product.sale_price, "discountedPrice": product.discounted_price},
            "variant": plan.variant,
            "template": {"name": plan.template.name, "version": plan.template.version},
            "settings": plan.settings.as_meta(),
            "disclosure": plan.settings.disclosure,
        }


@functools.cache
def _planning_code_version() -> str:
    """The package code and the libraries that shape a post: a change to any of them gives every
    plan new inputs, so nothing planned by other code is taken for what this code would plan."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for library in ("jinja2", "markupsafe", "nh3"):
        digest.update(importlib.metadata.version(library).encode() + b"\0")
    return digest.hexdigest()


def _title(product: PackageProduct) -> str:
    return product.page_title or product.name


@dataclass(frozen=True)
class PostTitle:
    """The post's title as it is pasted into the blog editor's title field."""

    text: str  # "[광고] 상품명", or the name alone when the title carries no disclosure
    disclosure: str | None  # the disclosure `text` begins with, whole

    @property
    def name(self) -> str:
        """The name part, perhaps clamped."""
        return self.text.removeprefix(self.disclosure or "").lstrip()


def post_title(product: PackageProduct, settings: PackageSettings) -> PostTitle:
    """The disclosure, then the product's title on one line: only the name is ever shortened."""
    name = _one_line(str(strip_controls(_title(product))))
    if len(name) > settings.title_name_max_chars:
        name = name[:settings.title_name_max_chars - 1].rstrip() + "…"
    if settings.title_disclosure is None:
        return PostTitle(name, None)
    disclosure = _one_line(str(strip_controls(settings.title_disclosure)))
    # A seller who put the disclosure in the name already gets it once, not twice.
    text = name if name.startswith(disclosure) else f"{disclosure} {name}".rstrip()
    return PostTitle(text, disclosure)


def post_script(plan: PackagePlan, post_html: str) -> bytes:
    """post.js: `contentOpsPost({originProductNo, variant, title, html})`. The strings are JSON
    string literals, inert in a script whatever the seller wrote (a script file has no `</script>`
    to end it); the line separators JSON allows and old JavaScript did not are escaped too."""
    payload = json.dumps({"originProductNo": plan.origin_product_no, "variant": plan.variant,
                          "title": post_title(plan.product, plan.settings).text, "html": post_html},
                         ensure_ascii=False, sort_keys=True)
    payload = payload.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    callback = POST_SCRIPT_CALLBACK
    return f"window.{callback} && window.{callback}({payload});\n".encode()


def _one_line(text: str) -> str:
    """A title field holds one line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())
