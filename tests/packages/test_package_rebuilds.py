"""Content addressing over loopback: an unchanged package writes nothing, a changed template,
setting or product rebuilds exactly what it changed, and variants come from configuration."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from content_assets.packages.plan import PLACEHOLDER, TEMPLATES_DIR
from tests.support.package_catalog import Packages
from tests.support.html_checks import active_content


def test_a_second_build_writes_nothing_touches_no_mtime_and_decodes_nothing(built: Packages):
    before = built.files()
    built.requeue_all()

    metadata = built.build()

    assert metadata["packages_unchanged"] == len(built.live()) and metadata["packages_built"] == 0
    assert metadata["bytes_written"] == 0
    assert metadata["image_pool_started"] is False  # nothing to decode: no image thread was started
    # How fast that is is the bench's to say (packages.unchanged_rebuild_seconds), not a unit test's:
    # a bound here failed a loaded three-worker `make test` at 0.37 s.
    assert built.files() == before


def test_a_changed_template_rebuilds_every_post_but_no_picture(built: Packages, tmp_path: Path):
    before = built.files()
    custom = tmp_path / "templates"
    custom.mkdir()
    source = (TEMPLATES_DIR / "default.html.j2").read_text()
    (custom / "default.html.j2").write_text(source.replace("{{ blocks.tag_line(tags) }}",
                                                           "{{ blocks.tag_line(tags) }}\n  <p>새 맺음말</p>"))

    metadata = built.build(templates_dir=str(custom))

    live = built.live()
    assert metadata["packages_stale"] == metadata["packages_built"] == len(live)  # none was queued
    assert metadata["images_downloaded"] == metadata["images_normalized"] == 0
    after = built.files()
    for product in live:
        assert "<p>새 맺음말</p>" in (built.package(product.origin_product_no) / "post.html").read_text()
        for number in range(1, product.image_count + 1):
            old = next(v for k, v in before.items() if k.startswith(f".builds/{product.origin_product_no}-")
                       and k.endswith(f"images/{number:02d}.jpg"))
            new = next(v for k, v in after.items() if k.startswith(f".builds/{product.origin_product_no}-")
                       and k.endswith(f"images/{number:02d}.jpg"))
            assert new == old  # the same file (inode and mtime): linked, not rewritten
    assert metadata["bytes_written"] < metadata["package_size_bytes"] / 2

    assert built.build(templates_dir=str(custom))["packages_built"] == 0
    assert built.build()["packages_built"] == len(live)  # back to the project's template


def test_a_changed_product_rewrites_its_post_and_zip_but_not_its_pictures(built: Packages):
    number = next(p.origin_product_no for p in built.live() if p.image_count >= 2)
    old = built.package(number).resolve()
    old_inodes = {name: (old / name).stat().st_ino for name in ("images/01.jpg", "unique-pack.zip", "post.html")}
    built.emulator.modify(origin_product_nos=[number])
    built.sync()

    metadata = built.build()

    new = built.package(number).resolve()
    assert metadata["packages_built"] == 1 and new != old and not old.exists()
    assert metadata["images_downloaded"] == metadata["images_normalized"] == 0  # the URLs were seen before
    assert (new / "images/01.jpg").stat().st_ino == old_inodes["images/01.jpg"]
    assert (new / "unique-pack.zip").stat().st_ino == old_inodes["unique-pack.zip"]  # no price in it
    assert (new / "post.html").stat().st_ino != old_inodes["post.html"]
    assert built.meta(number)["price"]["salePrice"] == built.emulator.catalog.get(number).sale_price


def test_changed_settings_rebuild_with_them(built: Packages):
    disclosure = "광고 · 이 글은 판매자에게서 원고료를 받아 썼습니다."
    metadata = built.build(image_max_width=320, image_quality=70, disclosure=disclosure)
    assert metadata["packages_built"] == len(built.live())
    for product in built.live():
        folder = built.package(product.origin_product_no)
        assert Image.open(folder / "images/01.jpg").width == 320
        post = (folder / "post.html").read_text()
        assert post.index(disclosure) < post.index("<h2")
        assert built.meta(product.origin_product_no)["settings"]["imageQuality"] == 70


def test_review_and_intro_variants_come_from_their_own_templates(built: Packages):
    metadata = built.build(variants=["review", "intro"])

    live = built.live()
    assert metadata["packages_built"] == 2 * len(live)
    for product in live:
        for variant, marker in (("review", "사용 후기"), ("intro", "신상품 소개")):
            folder = built.package(product.origin_product_no, variant)
            post = (folder / "post.html").read_text()
            meta = built.meta(product.origin_product_no, variant)
            assert marker in post and meta["template"]["name"] == f"{variant}.html.j2"
            assert active_content(post) == []
            assert [file for _, file in PLACEHOLDER.findall(post)] == meta["uploadOrder"]
            assert sorted(meta["uploadOrder"]) == sorted(f"images/{n:02d}.jpg" for n in
                                                         range(1, product.image_count + 1)) + [
                k["file"] for k in meta["keyframes"]]
        intro = (built.package(product.origin_product_no, "intro") / "post.html").read_text()
        assert intro.index("images/01.jpg") < intro.index("<table")  # the picture leads an introduction
    assert built.build(variants=["review", "intro"])["packages_built"] == 0


def test_an_ab_split_gives_each_product_one_variant_and_keeps_it(built: Packages):
    metadata = built.build(variants=["review", "intro"], ab_split=True)

    assigned = {}
    for product in built.live():
        present = [v for v in ("review", "intro") if built.package(product.origin_product_no, v).exists()]
        assert len(present) == 1
        assigned[product.origin_product_no] = present[0]
    assert set(assigned.values()) == {"review", "intro"}
    assert metadata["packages_built"] == len(assigned)
    assert built.build(variants=["review", "intro"], ab_split=True)["packages_built"] == 0


def test_an_unknown_variant_fails_the_run_before_anything_is_claimed(built: Packages):
    built.requeue_all()
    for variant in ("nope", "_blocks"):  # shared pieces are not variants
        assert not built.run(variants=[variant], raise_on_error=False).success
    with built.project.connect() as store:
        assert store.con.execute("SELECT DISTINCT status FROM refresh_queue").fetchall() == [("pending",)]


def test_a_package_published_but_not_recorded_is_recorded_by_the_next_run_without_rebuilding(built: Packages):
    """A run killed between swapping a package's link and recording it leaves the packages row of the
    old version: the next run finds the published package current and records it from its meta.json."""
    number = built.live()[0].origin_product_no
    with built.project.connect() as store:
        store.con.execute("UPDATE packages SET content_hash = 'an-older-version' WHERE origin_product_no = ?",
                          [number])
    built.requeue_all()
    published = built.package(number).resolve()
    files = {path: path.stat().st_mtime_ns for path in published.rglob("*")}

    metadata = built.build()

    # Nothing rebuilt or rewritten (the gallery's summary.json may be: its latest build time is the
    # record's, and the record is new).
    assert metadata["packages_built"] == 0
    assert built.package(number).resolve() == published
    assert {path: path.stat().st_mtime_ns for path in published.rglob("*")} == files
    with built.project.connect() as store:
        (recorded,) = store.con.execute("SELECT content_hash FROM packages WHERE origin_product_no = ? "
                                        "AND variant = 'default'", [number]).fetchone()
    assert recorded == built.meta(number)["contentHash"]
