"""The package settings, one source for everything that decides what a package holds: the
`package_settings` resource. The package run builds with it, the sensors judge staleness and
claimable work with it, and the sync's warm-up stages packages with it, so a variant, an image
size or a disclosure changed here reaches all three.

Set it where the code location assembles its resources (content_assets/environment.py). A value
changed in the launchpad for one run applies to that run only: the sensors, which know the code
location's resource, then count that run's packages as stale.
"""

from __future__ import annotations

import hashlib
from typing import Optional

import dagster as dg

from content_assets.packages.archive import DEFAULT_DEFLATE_LEVEL
from content_assets.packages.media.keyframes import DEFAULT_KEYFRAMES
from content_assets.packages.media.normalize import NormalizeSettings
from content_assets.packages.plan import (
    DEFAULT_DISCLOSURE,
    DEFAULT_TITLE_DISCLOSURE,
    DEFAULT_TITLE_NAME_MAX_CHARS,
    PackageSettings,
    TemplateSet,
)
from content_assets.packages.staleness import PackageVersion


def variant_for(origin_product_no: int, variants: list[str]) -> str:
    """A/B assignment that never changes for a product while the variant list stays the same."""
    digest = hashlib.sha256(f"ab:{origin_product_no}".encode()).digest()
    return variants[int.from_bytes(digest[:4], "big") % len(variants)]


class PackageSettingsResource(dg.ConfigurableResource):
    """What a package is built with, and how often a failing one is tried."""

    variants: list[str] = ["default"]  # templates/<variant>.html.j2: default, review, intro, ...
    ab_split: bool = False  # True: each product gets one of `variants`, by a stable hash of its number
    disclosure: str = DEFAULT_DISCLOSURE  # the 경제적 이해관계 표시 at the top of every post
    # The disclosure in the title too ("[광고] 상품명"), beside the box on top of the body. On by
    # default: the title is what search results, feeds and shares show before anyone opens the
    # post, and it is the one place no folding of the body can hide (README, "Title disclosure").
    title_disclosure: bool = True
    title_disclosure_text: str = DEFAULT_TITLE_DISCLOSURE  # e.g. [협찬] for a sponsored product
    title_name_max_chars: int = DEFAULT_TITLE_NAME_MAX_CHARS  # the name is clamped, never the disclosure
    templates_dir: Optional[str] = None  # searched before the project's templates
    image_max_width: int = NormalizeSettings.max_width
    image_quality: int = NormalizeSettings.quality
    keyframes: int = DEFAULT_KEYFRAMES  # per product video; 0 skips videos
    zip_deflate_level: int = DEFAULT_DEFLATE_LEVEL  # HTML and JSON; pictures are stored
    max_attempts: int = 3  # package runs a failing product is tried in before it waits for a change

    def settings(self) -> PackageSettings:
        return PackageSettings(
            disclosure=self.disclosure,
            image=NormalizeSettings(max_width=self.image_max_width, quality=self.image_quality),
            keyframes=self.keyframes,
            zip_deflate_level=self.zip_deflate_level,
            # Only the disclosure in effect counts: editing the text of a disabled one stales nothing.
            title_disclosure=self.title_disclosure_text if self.title_disclosure else None,
            title_name_max_chars=self.title_name_max_chars,
        )

    def templates(self) -> TemplateSet:
        """The templates as they are on disk now (a new set each call: an edited one is seen)."""
        return TemplateSet(self.templates_dir)

    def checked_templates(self) -> TemplateSet:
        """The templates, having failed the run on an unknown or missing variant."""
        if not self.variants:
            raise dg.Failure("package_settings.variants must name at least one template variant")
        templates = self.templates()
        for variant in self.variants:
            templates.get(variant)
        return templates

    def variants_of(self, origin_product_no: int) -> list[str]:
        """The variants a product's packages are built in: all of them, or its A/B one."""
        return [variant_for(origin_product_no, self.variants)] if self.ab_split else list(self.variants)

    def version(self, templates: TemplateSet | None = None) -> PackageVersion:
        return PackageVersion.of(templates or self.templates(), self.variants, self.settings())
