"""The package writer: names come from numbers only, unchanged content writes nothing, a changed
package rewrites only what changed, and the leftovers of a killed run are swept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from resources.package_files.writer import PackageWriter

HASH_A, HASH_B = "a" * 64, "b" * 64


@pytest.fixture
def writer(tmp_path: Path) -> PackageWriter:
    return PackageWriter(packages_dir=str(tmp_path / "packages"))


@pytest.mark.parametrize("name", ["../x.html", "images/../../x.jpg", "/etc/passwd.txt", "a b.html", "x", "im\x00g.jpg",
                                  "images/한글.jpg", ".hidden.html", "images//01.jpg"])
def test_file_names_outside_the_plain_pattern_are_refused(writer: PackageWriter, name: str):
    with pytest.raises(ValueError):
        writer.write(1, "default", HASH_A, {name: b"x"})
    assert not (writer.root.parent / "x.html").exists()


@pytest.mark.parametrize("variant", ["../x", "a/b", "", "Default", ".builds", "x" * 40])
def test_variants_that_are_not_plain_names_are_refused(writer: PackageWriter, variant: str):
    with pytest.raises(ValueError):
        writer.package_path(1, variant)


@pytest.mark.parametrize("number", [-1, "1/../../x", True, 1.5])
def test_product_numbers_must_be_non_negative_integers(writer: PackageWriter, number):
    with pytest.raises(ValueError):
        writer.package_path(number, "default")


def test_a_second_write_of_the_same_content_writes_nothing(writer: PackageWriter):
    files = {"post.html": b"<div>1</div>", "images/01.jpg": b"jpeg"}
    first = writer.write(7, "default", HASH_A, files)
    mtimes = {p: p.stat().st_mtime_ns for p in writer.root.rglob("*") if p.is_file()}
    second = writer.write(7, "default", HASH_A, files)
    assert first.written and first.bytes_written == len(b"<div>1</div>") + len(b"jpeg")
    assert not second.written and second.bytes_written == 0
    assert {p: p.stat().st_mtime_ns for p in writer.root.rglob("*") if p.is_file()} == mtimes


def test_a_changed_package_links_its_unchanged_files_and_cached_pictures(writer: PackageWriter, tmp_path: Path):
    cached = tmp_path / "cached.jpg"
    cached.write_bytes(b"normalized jpeg")
    writer.write(7, "default", HASH_A, {"post.html": b"old", "meta.json": b"{}", "images/01.jpg": cached})
    old = writer.package_path(7, "default").resolve()
    meta_inode = (old / "meta.json").stat().st_ino
    result = writer.write(7, "default", HASH_B, {"post.html": b"new!", "meta.json": b"{}", "images/01.jpg": cached})
    new = writer.package_path(7, "default").resolve()
    assert result.bytes_written == len(b"new!")  # only the post was written
    assert result.files_linked == 2
    assert (new / "meta.json").stat().st_ino == meta_inode
    assert (new / "images/01.jpg").stat().st_ino == cached.stat().st_ino
    assert not old.exists()  # the previous version is gone once the link moved


def test_root_files_are_replaced_only_when_their_bytes_differ(writer: PackageWriter):
    assert writer.write_root_file("index.html", b"<html>1</html>") == len(b"<html>1</html>")
    mtime = (writer.root / "index.html").stat().st_mtime_ns
    assert writer.write_root_file("index.html", b"<html>1</html>") == 0
    assert (writer.root / "index.html").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError):
        writer.write_root_file("../index.html", b"x")


def test_sweep_removes_staging_leftovers_and_builds_no_link_points_to(writer: PackageWriter):
    writer.write(7, "default", HASH_A, {"post.html": b"kept"})
    staging = writer.root / ".staging" / "deadbeef"
    (staging / "images").mkdir(parents=True)
    (staging / "images" / "01.jpg").write_bytes(b"half")
    os.symlink("../.builds/nothing", writer.root / ".staging" / "link-dead")
    orphan = writer.root / ".builds" / "8-default-bbbbbbbbbbbbbbbb"
    orphan.mkdir()
    (writer.root / ".cache" / "tmp").mkdir(parents=True)
    (writer.root / ".cache" / "tmp" / "partial").write_bytes(b"x")

    result = writer.sweep()

    assert (result.staging_removed, result.orphan_builds_removed, result.cache_entries_removed) == (2, 1, 1)
    assert list((writer.root / ".staging").iterdir()) == [] and not orphan.exists()
    assert (writer.package_path(7, "default") / "post.html").read_bytes() == b"kept"


def test_a_staged_version_stays_unpublished_until_adopted(writer: PackageWriter):
    files = {"post.html": b"<p>new</p>", "images/01.jpg": b"\xff\xd8 picture"}
    writer.write(9, "default", "a" * 16, {"post.html": b"<p>old</p>"})

    written = writer.stage(9, "default", "b" * 16, files)

    assert written == sum(len(data) for data in files.values())
    assert writer.read_file(9, "default", "post.html") == b"<p>old</p>"  # still the published one
    assert writer.has_build(9, "default", "b" * 16) and not writer.is_current(9, "default", "b" * 16)
    assert writer.sweep(orphan_builds=False).orphan_builds_removed == 0
    ready = list((writer.root / ".ready").iterdir())  # its link, made beside it, not yet in place
    assert [path.resolve() for path in ready] == [writer.package_path(9, "default").resolve().parent / ready[0].name]

    adopted = writer.adopt(9, "default", "b" * 16)

    assert adopted.written and adopted.bytes_written == 0
    assert adopted.size_bytes == sum(len(data) for data in files.values())
    assert writer.read_file(9, "default", "post.html") == b"<p>new</p>"
    assert writer.is_current(9, "default", "b" * 16)
    assert not writer.has_build(9, "default", "a" * 16)  # the version it replaced is gone
    assert list((writer.root / ".ready").iterdir()) == []  # the staged link is the one published
    assert writer.remove_orphan_builds() == 0


def test_a_staged_version_no_run_published_is_removed_with_the_orphans(writer: PackageWriter):
    writer.stage(10, "default", "c" * 16, {"post.html": b"<p>never published</p>"})

    assert writer.remove_orphan_builds() == 1
    assert not writer.has_build(10, "default", "c" * 16)
    assert list((writer.root / ".ready").iterdir()) == []  # nor its link, which would dangle


def test_the_inputs_notes_of_packages_not_published_go_with_the_orphans(writer: PackageWriter):
    writer.write(12, "default", "a" * 64, {"post.html": b"<p>published</p>"})
    writer.remember_inputs(12, "default", "inputs-12", "a" * 64)
    writer.stage(13, "default", "b" * 64, {"post.html": b"<p>never published</p>"})
    writer.remember_inputs(13, "default", "inputs-13", "b" * 64)

    assert writer.remove_orphan_builds() == 1
    assert writer.content_hash_of_inputs(12, "default", "inputs-12") == "a" * 64
    assert writer.content_hash_of_inputs(13, "default", "inputs-13") is None
    assert sorted(path.name for path in (writer.root / ".inputs").iterdir()) == ["12-default.json"]


def test_a_version_staged_again_publishes_through_a_link_of_its_own(writer: PackageWriter):
    """A link staged for a version whose link was then lost is made again; without one,
    publishing makes its link then."""
    writer.stage(11, "default", "d" * 16, {"post.html": b"<p>d</p>"})
    for staged in (writer.root / ".ready").iterdir():
        shutil.rmtree(staged)  # the product has no folder yet: its link was staged in one
    assert writer.adopt(11, "default", "d" * 16).written
    assert writer.read_file(11, "default", "post.html") == b"<p>d</p>"
    writer.stage(11, "default", "e" * 16, {"post.html": b"<p>e</p>"})
    writer.stage(11, "default", "e" * 16, {"post.html": b"<p>e</p>"})  # its link is there already
    assert writer.adopt(11, "default", "e" * 16).written
    assert writer.read_file(11, "default", "post.html") == b"<p>e</p>"


@pytest.mark.parametrize("spelling", ["{tmp}/packages", "{tmp}/elsewhere/../packages", "{tmp}/./packages/"])
def test_a_root_spelled_any_way_sees_its_links_and_drops_what_they_replaced(tmp_path: Path, spelling: str):
    # Links are read with readlink (not Path.resolve): a root with `..` or `.` in it must still
    # find a package current, and a new version must still replace and remove the old one.
    (tmp_path / "elsewhere").mkdir()
    writer = PackageWriter(packages_dir=spelling.format(tmp=tmp_path))
    writer.write(5, "default", HASH_A, {"post.html": b"a"})
    assert writer.is_current(5, "default", HASH_A)
    assert not writer.write(5, "default", HASH_A, {"post.html": b"a"}).written
    writer.write(5, "default", HASH_B, {"post.html": b"b"})
    assert writer.is_current(5, "default", HASH_B) and not writer.has_build(5, "default", HASH_A)
    assert writer.read_file(5, "default", "post.html") == b"b"


def test_a_first_version_is_published_by_renaming_the_folder_staged_with_its_link(writer: PackageWriter):
    # A product with no folder yet: its link is staged in a folder of its own, which becomes the
    # product's folder in one rename, so publishing makes no folder (the same inode before and after).
    writer.stage(20, "default", "a" * 16, {"post.html": b"<p>first</p>"})
    [staged] = (writer.root / ".ready").iterdir()
    assert staged.is_dir() and not staged.is_symlink() and (staged / "default").is_symlink()
    assert not writer.package_path(20, "default").parent.exists()
    folder_inode = staged.stat().st_ino

    assert writer.adopt(20, "default", "a" * 16).written

    assert writer.read_file(20, "default", "post.html") == b"<p>first</p>"
    assert writer.is_current(20, "default", "a" * 16)
    assert writer.package_path(20, "default").parent.stat().st_ino == folder_inode
    assert list((writer.root / ".ready").iterdir()) == []
    assert writer.remove_orphan_builds() == 0


def test_variants_staged_before_their_product_had_a_folder_are_all_published(writer: PackageWriter):
    # Both links were staged in folders of their own; the second publish finds the product's
    # folder made by the first, and moves its link into it.
    writer.stage(21, "default", "b" * 16, {"post.html": b"<p>default</p>"})
    writer.stage(21, "review", "c" * 16, {"post.html": b"<p>review</p>"})

    writer.adopt(21, "default", "b" * 16)
    writer.adopt(21, "review", "c" * 16)

    assert writer.read_file(21, "default", "post.html") == b"<p>default</p>"
    assert writer.read_file(21, "review", "post.html") == b"<p>review</p>"
    assert list((writer.root / ".ready").iterdir()) == []
    assert writer.remove_orphan_builds() == 0


def test_a_staged_folder_without_its_link_is_not_published_as_an_empty_product_folder(writer: PackageWriter):
    # A stage killed between making the folder and the link: publishing makes the link instead.
    writer.stage(22, "default", "d" * 16, {"post.html": b"<p>d</p>"})
    [staged] = (writer.root / ".ready").iterdir()
    (staged / "default").unlink()

    assert writer.adopt(22, "default", "d" * 16).written

    assert writer.read_file(22, "default", "post.html") == b"<p>d</p>"
    assert writer.remove_orphan_builds() == 0
    assert list((writer.root / ".ready").iterdir()) == []
