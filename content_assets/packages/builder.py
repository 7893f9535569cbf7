"""Builds one package: plan it, skip it when unchanged, else get its pictures ready and write it.

Pictures go through the image cache: a URL seen before is not downloaded again, a source seen
before (behind any URL) is not normalized again. What is left is downloaded by a download thread,
then normalized and stored in the cache by an image-pool thread, a package's pictures in parallel,
with a pool slot held from download until the result is in the cache. A thread that cannot get a
slot first finishes its own pending pictures (giving their slots back), so it never waits on
others while holding slots: no deadlock, whatever the pool size.

A picture that cannot be had (an HTTP error, not an image, truncated, too big, too many pixels,
too slow, an unreachable host) does not fail the package: it is built without it, the rest
numbered without gaps, and `meta.json` says which is missing and why. The failure is recorded in
the image cache with a retry time; until then the picture is not fetched again and the package
as built stays current; after it, the next build tries again. `strict_pictures` fails the package
instead, as every bad picture did before.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from resources.package_files.image_cache import CachedImage, CachedKeyframe, ImageCache, ImageInfo
from resources.package_files.writer import PackageFile, PackageWrite, PackageWriter

from content_assets.packages.media.normalize import ImageDecodeError, NormalizedImage, normalize_image
from content_assets.packages.media.image_pool import ImagePool
from content_assets.packages.media.keyframes import KeyframeResult, VideoError, extract_keyframes
from content_assets.packages.archive import zip_bytes
from content_assets.packages.package_meta import (
    META_FILE,
    image_entry,
    info_fields,
    info_of,
    keyframe_entry,
    read_meta,
)
from content_assets.packages.plan import (
    POST_SCRIPT_FILE,
    MissingImage,
    PackagePlan,
    PackageProduct,
    PackageRenderer,
    PostImage,
    post_script,
)

VIDEO_OK, VIDEO_BROKEN, VIDEO_MISSING = "ok", "broken", "missing"
DEFAULT_VIDEO_MAX_BYTES = 200 * 1024 * 1024
# A product photo is a few MB at most; past this a download is refused as it arrives.
DEFAULT_PICTURE_MAX_BYTES = 30 * 1024 * 1024
# How long a package waits for a picture's decode once it is downloaded (pixels are bounded by
# image_normalization.MAX_PIXELS; this is the backstop). Generous: it includes any wait for a
# pool thread. A decode past it keeps running on its thread and lands in the cache for later.
DEFAULT_DECODE_SECONDS = 60.0
PACKAGE_ZIP = "package.zip"
UNIQUE_PACK = "unique-pack.zip"
# After this many refused or timed-out connections (each already retried by the client), an
# image host is not tried again in this run: a CDN outage fails packages in seconds, not hours.
UNREACHABLE_AFTER = 3


class UnreachableHostError(ConnectionError):
    """Pictures from this host are not fetched again in this run."""


class PictureError(Exception):
    """A picture that could not be had; its package is built without it, or fails when strict."""

    def __init__(self, missing: MissingImage) -> None:
        super().__init__(f"picture {missing.position} ({missing.source_url}): {missing.reason}")
        self.missing = missing


# What a failed download raises: HTTP and transport errors, an unreachable host or a download over
# its deadline (OSError), a body over its size limit (ValueError), a URL that is not one.
_DOWNLOAD_ERRORS = (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError)


@dataclass
class MediaTimings:
    """Where one build's time went, summed over its pictures (seconds) and what it fetched."""

    download_seconds: float = 0.0
    normalize_seconds: float = 0.0
    hash_seconds: float = 0.0  # source sha256, normalized sha256 and perceptual hash
    copy_seconds: float = 0.0  # placing pictures into the package (hard links)
    keyframe_seconds: float = 0.0
    zip_seconds: float = 0.0
    images_downloaded: int = 0
    images_normalized: int = 0
    images_cached: int = 0  # ready in the cache: neither downloaded nor normalized


@dataclass(frozen=True)
class _Normalized:
    cached: CachedImage
    normalize_seconds: float
    hash_seconds: float


@dataclass(frozen=True)
class _Fetched:
    source_sha256: str
    size_bytes: int
    cached: CachedImage | None  # the same content was already normalized
    normalized: Future[_Normalized] | None
    download_seconds: float
    hash_seconds: float


@dataclass(frozen=True)
class VideoOutcome:
    source_url: str
    status: str  # ok | broken | missing
    error: str | None = None
    keyframes: tuple[CachedKeyframe, ...] = ()


@dataclass(frozen=True)
class BuildOutcome:
    plan: PackagePlan
    write: PackageWrite
    seconds: float
    timings: MediaTimings = field(default_factory=MediaTimings)
    images: tuple[CachedImage, ...] = ()
    video: VideoOutcome | None = None
    prebuilt: bool = False  # staged during the sync (PackageBuilder.prebuild), published here

    @property
    def unchanged(self) -> bool:
        return not self.write.written


class PackageBuilder:
    """Thread-safe: one builder serves every package thread of a run."""

    def __init__(
        self,
        renderer: PackageRenderer,
        writer: PackageWriter,
        cache: ImageCache,
        fetch: Callable[[str], bytes],
        pool: ImagePool,
        downloads: Executor,
        *,
        video_max_bytes: int = DEFAULT_VIDEO_MAX_BYTES,
        picture_max_bytes: int = DEFAULT_PICTURE_MAX_BYTES,
        decode_seconds: float = DEFAULT_DECODE_SECONDS,
        strict_pictures: bool = False,
    ) -> None:
        self.renderer = renderer
        self.writer = writer
        self.cache = cache
        self.fetch = fetch  # a CDN GET: CommerceApiClient.fetch_image(url, max_bytes)
        self.pool = pool
        self.downloads = downloads  # threads that fetch pictures, so one package's arrive in parallel
        self.video_max_bytes = video_max_bytes
        self.picture_max_bytes = picture_max_bytes
        self.decode_seconds = decode_seconds
        self.strict_pictures = strict_pictures  # a bad picture fails its package
        self.settings = renderer.settings
        self._refused: dict[str, int] = {}  # image host -> connection failures in a row
        self._refused_lock = threading.Lock()

    def build(self, product: PackageProduct, variant: str) -> BuildOutcome:
        started = time.perf_counter()
        published, inputs = self.publish_on_disk(product, variant, started)
        return published if published is not None else self.build_anew(product, variant, inputs, started)

    def publish_on_disk(self, product: PackageProduct, variant: str,
                        started: float) -> tuple[BuildOutcome | None, str]:
        """The version the product's plan inputs make, published, when it is on disk already
        (staged during the sync, or unchanged): found without rendering or fetching. None when
        it is not, with the inputs' key (`inputs_key`) for `build_anew`, which makes it."""
        inputs = self.renderer.inputs_key(product, variant)
        on_disk = self._plan_on_disk(product, variant, inputs)
        return (None if on_disk is None else self._publish(on_disk, started)), inputs

    def build_anew(self, product: PackageProduct, variant: str, inputs: str, started: float) -> BuildOutcome:
        """Plan, fetch, render and write the version, for inputs whose version is not on disk."""
        full = self.renderer.plan(product, variant)
        self.writer.remember_inputs(product.origin_product_no, variant, inputs, full.content_hash)
        plan = self._known_plan(full)
        number = product.origin_product_no
        if self.writer.has_build(number, variant, plan.content_hash):
            return self._publish(plan, started)

        timings = MediaTimings()
        plan, images, video = self._prepare_media(full, plan.missing, timings)
        files = self._package_files(plan, images, video, timings)
        write = self.writer.write(number, variant, plan.content_hash, files)
        timings.copy_seconds += write.link_seconds
        return BuildOutcome(plan, write, time.perf_counter() - started, timings, tuple(images), video)

    def prebuild(self, product: PackageProduct, variant: str) -> bool:
        """Write this version of the package into `.builds/` without publishing it, so that the
        run that publishes it (`build`) only swaps a link. The version is content-addressed: a
        build for the same product, templates and settings is the same files. False when there
        was nothing to do."""
        inputs = self.renderer.inputs_key(product, variant)
        if self._plan_on_disk(product, variant, inputs) is not None:
            return False
        full = self.renderer.plan(product, variant)
        number = product.origin_product_no
        self.writer.remember_inputs(number, variant, inputs, full.content_hash)
        plan = self._known_plan(full)
        if self.writer.has_build(number, variant, plan.content_hash):
            return False
        timings = MediaTimings()
        plan, images, video = self._prepare_media(full, plan.missing, timings)
        self.writer.stage(number, variant, plan.content_hash, self._package_files(plan, images, video, timings))
        return True

    def _plan_on_disk(self, product: PackageProduct, variant: str, inputs: str) -> PackagePlan | None:
        """The plan (unrendered) of the version on disk that these inputs (`inputs_key`) make
        now, when the writer noted their content hash and that version is there; else None."""
        number = product.origin_product_no
        full_hash = self.writer.content_hash_of_inputs(number, variant, inputs)
        if full_hash is None:
            return None
        plan = self._known_plan(self.renderer.unrendered(product, variant, full_hash))
        return plan if self.writer.has_build(number, variant, plan.content_hash) else None

    def _publish(self, plan: PackagePlan, started: float) -> BuildOutcome:
        """A version on disk made current: nothing when it is already, else its link swapped."""
        number, variant = plan.origin_product_no, plan.variant
        if self.writer.is_current(number, variant, plan.content_hash):
            write = self.writer.write(number, variant, plan.content_hash, {})
            return BuildOutcome(plan, write, time.perf_counter() - started)
        return self._adopt(plan, started)

    def _known_plan(self, full: PackagePlan) -> PackagePlan:
        """The package as it would be built now without fetching anything: the full plan, or
        (when it is not on disk) the plan without the pictures whose retry is not yet due."""
        number, variant = full.origin_product_no, full.variant
        if self.writer.is_current(number, variant, full.content_hash):
            return full
        waiting = self._waiting_pictures(full.image_urls)
        if waiting and self.strict_pictures:
            raise PictureError(waiting[0])
        return self.renderer.without(full, waiting)

    def _waiting_pictures(self, urls: Sequence[str]) -> list[MissingImage]:
        """Pictures that failed before and are not due for another try yet."""
        now = self.cache.clock()
        waiting = []
        for position, url in enumerate(urls, start=1):
            failure = self.cache.failure_of(url)
            if failure is None or failure.due(now):
                continue
            if self.cache.image_of(url, self.settings.image.key) is None:  # or another run has since got it
                waiting.append(MissingImage(position, url, failure.reason))
        return waiting

    def _prepare_media(self, full: PackagePlan, waiting: Sequence[MissingImage], timings: MediaTimings
                       ) -> tuple[PackagePlan, list[CachedImage], VideoOutcome | None]:
        """Pictures and keyframes for the full plan; the plan returned leaves out the pictures
        that were waiting for their retry or failed now."""
        images, failed = self._prepare_images(full.image_urls, timings, skip={item.position for item in waiting})
        video = self._prepare_video(full.video_url, timings)
        return self.renderer.without(full, [*waiting, *failed]), images, video

    def _adopt(self, plan: PackagePlan, started: float) -> BuildOutcome:
        """Publish a prebuilt version; what it holds is read back from its meta.json."""
        number, variant = plan.origin_product_no, plan.variant
        write = self.writer.adopt(number, variant, plan.content_hash)
        meta = read_meta(self.writer, number, variant)
        folder = write.path
        images = tuple(
            CachedImage(folder / entry["file"], info_of(entry), entry["sourceSha256"], entry["sourceSizeBytes"])
            for entry in meta.get("images", [])
        )
        video = None
        if meta.get("video"):
            keyframes = tuple(CachedKeyframe(folder / entry["file"], info_of(entry), entry["timeSeconds"])
                              for entry in meta.get("keyframes", []))
            video = VideoOutcome(meta["video"]["sourceUrl"], meta["video"]["status"], meta["video"].get("error"),
                                 keyframes)
        return BuildOutcome(plan, write, time.perf_counter() - started, MediaTimings(), images, video, prebuilt=True)

    def prepare_media(self, image_urls: Sequence[str], video_url: str | None) -> MediaTimings:
        """Download and normalize pictures and video keyframes into the cache, building nothing:
        a later build of a package with these media and settings finds them ready."""
        timings = MediaTimings()
        urls = tuple(image_urls)
        waiting = self._waiting_pictures(urls)
        self._prepare_images(urls, timings, skip={item.position for item in waiting})
        self._prepare_video(video_url, timings)
        return timings

    # -- pictures -----------------------------------------------------------------------------

    def _fetch(self, url: str, max_bytes: int) -> bytes:
        """A CDN GET that gives up on a host which keeps refusing connections."""
        host = urlsplit(url).netloc
        with self._refused_lock:
            if self._refused.get(host, 0) >= UNREACHABLE_AFTER:
                raise UnreachableHostError(f"{host} refused {UNREACHABLE_AFTER} connections in a row in this run; "
                                           f"not fetching {url}")
        try:
            data = self.fetch(url, max_bytes)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            with self._refused_lock:
                self._refused[host] = self._refused.get(host, 0) + 1
            raise
        with self._refused_lock:
            self._refused.pop(host, None)
        return data

    def _prepare_images(self, urls: tuple[str, ...], timings: MediaTimings, skip: set[int] | frozenset[int] = frozenset()
                        ) -> tuple[list[CachedImage], list[MissingImage]]:
        """The pictures at these URLs, normalized, in order, and those that failed now (skipped
        positions, 1-based, are neither). When strict, the first failure is raised."""
        key = self.settings.image.key
        ready: list[CachedImage | None] = [None] * len(urls)
        failed: list[MissingImage] = []
        pending: deque[tuple[int, Future[_Fetched]]] = deque()
        try:
            for index, url in enumerate(urls):
                if index + 1 in skip:
                    continue
                cached = self.cache.image_of(url, key)
                if cached is not None:
                    ready[index] = cached
                    timings.images_cached += 1
                    continue
                if not self.pool.slots.acquire(blocking=False):
                    while pending:  # give back our own slots before waiting for anyone else's
                        self._finish_image(pending.popleft(), urls, ready, failed, timings)
                    self.pool.slots.acquire()
                try:
                    pending.append((index, self.downloads.submit(self._fetch_and_normalize, url)))
                except BaseException:
                    self.pool.slots.release()
                    raise
            while pending:
                self._finish_image(pending.popleft(), urls, ready, failed, timings)
        finally:
            for _, future in pending:  # an error above: drop the rest and free their slots
                future.cancel()
                self.pool.slots.release()
        return [image for image in ready if image is not None], failed

    def _fetch_and_normalize(self, url: str) -> _Fetched:
        """In a download thread: fetch, hash, and hand the picture to the image pool unless the
        same content is already normalized in the cache (the same picture behind another URL)."""
        started = time.perf_counter()
        try:
            data = self._fetch(url, self.picture_max_bytes)
        except _DOWNLOAD_ERRORS as exc:
            raise _PictureFailed(_reason(exc)) from exc
        downloaded = time.perf_counter()
        source_sha256 = hashlib.sha256(data).hexdigest()
        hashed = time.perf_counter()
        key = self.settings.image.key
        cached = self.cache.normalized(source_sha256, key)
        future = None
        if cached is not None:
            self.cache.remember_image(url, key, cached)
        else:  # the URL's record is written with the image, once it is normalized
            future = self.pool.submit(self._normalize_and_store, data, source_sha256, url)
        return _Fetched(source_sha256, len(data), cached, future, downloaded - started, hashed - downloaded)

    def _normalize_and_store(self, data: bytes, source_sha256: str, url: str) -> _Normalized:
        """In a pool thread: normalize and put the result in the cache there, so the cache's
        write and fsync overlap other pictures' work instead of holding up the package thread."""
        result = normalize_image(data, self.settings.image)
        cached = self.cache.store_normalized(source_sha256, len(data), self.settings.image.key, result.data,
                                             _info(result), url=url)
        return _Normalized(cached, result.normalize_seconds, result.hash_seconds)

    def _finish_image(self, item: tuple[int, Future[_Fetched]], urls: tuple[str, ...],
                      ready: list[CachedImage | None], failed: list[MissingImage], timings: MediaTimings) -> None:
        """Wait for one picture; one that cannot be had is recorded (and raised when strict)."""
        index, download = item
        try:
            ready[index] = self._picture(download, timings)
            self.cache.clear_failure(urls[index])
        except _PictureFailed as exc:
            missing = MissingImage(index + 1, urls[index], str(exc))
            self.cache.record_failure(missing.source_url, missing.reason)
            if self.strict_pictures:
                raise PictureError(missing) from exc.__cause__
            failed.append(missing)
        finally:
            self.pool.slots.release()

    def _picture(self, download: Future[_Fetched], timings: MediaTimings) -> CachedImage:
        """The downloaded picture, normalized; _PictureFailed when it cannot be had."""
        fetched = download.result()
        timings.download_seconds += fetched.download_seconds
        timings.hash_seconds += fetched.hash_seconds
        timings.images_downloaded += 1
        if fetched.cached is not None:
            return fetched.cached
        assert fetched.normalized is not None
        try:
            result = fetched.normalized.result(timeout=self.decode_seconds)
        except ImageDecodeError as exc:
            raise _PictureFailed(_one_line(str(exc))) from exc
        except TimeoutError:
            raise _PictureFailed(f"decoding took longer than {self.decode_seconds:g} s") from None
        timings.normalize_seconds += result.normalize_seconds
        timings.hash_seconds += result.hash_seconds
        timings.images_normalized += 1
        return result.cached

    def _prepare_video(self, url: str | None, timings: MediaTimings) -> VideoOutcome | None:
        """Keyframes of the product's video; a broken or missing video is recorded, never raised."""
        count = self.settings.keyframes
        if not url or count == 0:
            return None
        key = self.settings.image.key
        known = self.cache.source_of(url)
        cached = self.cache.keyframes(known.sha256, key, count) if known else None
        if cached is not None:
            return VideoOutcome(url, VIDEO_OK, keyframes=tuple(cached))
        with _Slot(self.pool):
            started = time.perf_counter()
            try:
                data = self._fetch(url, self.video_max_bytes)
            except httpx.HTTPStatusError as exc:
                status = exc.response.status_code
                return VideoOutcome(url, VIDEO_MISSING if status in (404, 410) else VIDEO_BROKEN, f"HTTP {status}")
            except _DOWNLOAD_ERRORS as exc:
                return VideoOutcome(url, VIDEO_BROKEN, _reason(exc))
            timings.download_seconds += time.perf_counter() - started
            if len(data) > self.video_max_bytes:
                return VideoOutcome(url, VIDEO_BROKEN, f"video of {len(data)} bytes exceeds {self.video_max_bytes}")
            video_sha256 = hashlib.sha256(data).hexdigest()
            self.cache.remember_source(url, video_sha256, len(data))
            cached = self.cache.keyframes(video_sha256, key, count)
            if cached is not None:
                return VideoOutcome(url, VIDEO_OK, keyframes=tuple(cached))
            try:
                result: KeyframeResult = self.pool.submit(extract_keyframes, data, count, self.settings.image).result()
            except VideoError as exc:
                return VideoOutcome(url, VIDEO_BROKEN, str(exc))
            timings.keyframe_seconds += result.extract_seconds
            stored = self.cache.store_keyframes(
                video_sha256, key, count,
                [(frame.image.data, _info(frame.image), frame.time_seconds) for frame in result.keyframes],
            )
            return VideoOutcome(url, VIDEO_OK, keyframes=tuple(stored))

    # -- the package ----------------------------------------------------------------------------

    def _package_files(
        self, plan: PackagePlan, images: list[CachedImage], video: VideoOutcome | None, timings: MediaTimings
    ) -> dict[str, PackageFile]:
        keyframe_count = len(video.keyframes) if video else 0
        keyframe_images = self.renderer.keyframe_images(keyframe_count)
        post = self.renderer.render(plan, keyframe_images)
        meta = self._meta(plan, images, video, keyframe_images, post.upload_order)
        files: dict[str, PackageFile] = {
            "post.html": post.post_html.encode(),
            "preview.html": post.preview_html.encode(),
            META_FILE: json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode(),
        }
        pictures: dict[str, Any] = {}
        for image, cached in zip(plan.images, images, strict=True):
            pictures[image.file] = cached
        for image, frame in zip(keyframe_images, video.keyframes if video else (), strict=True):
            pictures[image.file] = frame
        for name, picture in pictures.items():
            files[name] = picture.path

        started = time.perf_counter()
        contents = {name: data for name, data in files.items() if isinstance(data, bytes)}
        picture_bytes = {name: picture.path.read_bytes() for name, picture in pictures.items()}
        modified = plan.product.modified_date
        level = self.settings.zip_deflate_level
        files[PACKAGE_ZIP] = zip_bytes({**contents, **picture_bytes}, deflate_level=level, modified=modified)
        files[UNIQUE_PACK] = self._unique_pack(plan, meta, pictures, picture_bytes)
        timings.zip_seconds += time.perf_counter() - started
        files[POST_SCRIPT_FILE] = post_script(plan, post.post_html)  # the gallery's, not in the zips
        return files

    def _unique_pack(self, plan: PackagePlan, meta: dict[str, Any], pictures: dict[str, Any],
                     picture_bytes: dict[str, bytes]) -> bytes:
        """The package's pictures, each distinct picture once, with a manifest of all of them."""
        first_file: dict[str, str] = {}
        entries = []
        for name, picture in pictures.items():
            same_as = first_file.setdefault(picture.info.sha256, name)
            entries.append({"file": name, **info_fields(picture.info), "sameAs": None if same_as == name else same_as})
        manifest = {
            "originProductNo": plan.origin_product_no,
            "variant": plan.variant,
            "uploadOrder": meta["uploadOrder"],
            "pictures": entries,
        }
        files = {name: picture_bytes[name] for name in set(first_file.values())}
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        # No product time in it: a price change leaves the pictures, and so this zip, as they were.
        return zip_bytes(files, deflate_level=self.settings.zip_deflate_level)

    def _meta(self, plan: PackagePlan, images: list[CachedImage], video: VideoOutcome | None,
              keyframe_images: tuple[PostImage, ...], upload_order: tuple[str, ...]) -> dict[str, Any]:
        meta = self.renderer.base_meta(plan)
        meta["contentHash"] = plan.content_hash
        meta["images"] = [image_entry(image.file, url, cached)
                          for image, url, cached in zip(plan.images, plan.image_urls, images, strict=True)]
        meta["keyframes"] = [keyframe_entry(image.file, frame)
                             for image, frame in zip(keyframe_images, video.keyframes if video else (), strict=True)]
        meta["missingImages"] = [item.as_meta() for item in plan.missing]
        meta["video"] = None if video is None else {"sourceUrl": video.source_url, "status": video.status,
                                                    "error": video.error, "keyframes": len(video.keyframes)}
        meta["uploadOrder"] = list(upload_order)
        return meta


class _Slot:
    """One in-flight slot of the pool, held for a `with` block."""

    def __init__(self, pool: ImagePool) -> None:
        self.pool = pool

    def __enter__(self) -> None:
        self.pool.slots.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.pool.slots.release()


class _PictureFailed(Exception):
    """A picture could not be had; the message is the reason, one line."""


def _reason(exc: BaseException) -> str:
    """What went wrong with a download, in one stable line (it goes into the package's hash)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return _one_line(f"{type(exc).__name__}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _info(image: NormalizedImage) -> ImageInfo:
    return ImageInfo(image.sha256, image.phash, image.width, image.height, len(image.data))
