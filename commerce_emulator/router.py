"""Maps a request's method and path to the gateway (API), the image host or the control endpoints."""

from __future__ import annotations

import re
import time
from email.message import Message

from .catalog import Catalog
from .control import ControlApi
from .gateway import Gateway
from . import hostile
from .images import ImageShelf
from .replies import Reply, json_reply
from .seller_quirks import VIDEO_BROKEN, VIDEO_OK
from .stats import EmulatorStats
from .stores import SLUG_PATTERN, StoreDirectory
from .videos import render_broken_video, render_product_video

API_PREFIX = "/external"
CONTROL_PREFIX = "/_emulator/"

_TOKEN_PATH = f"{API_PREFIX}/v1/oauth2/token"
_SEARCH_PATH = f"{API_PREFIX}/v1/products/search"
_DETAIL_PATH = re.compile(rf"{API_PREFIX}/v2/products/origin-products/([^/]+)")
# The default app's media have no store slug; every other store's do (payloads.image_url).
_IMAGE_PATH = re.compile(rf"/images/(?:({SLUG_PATTERN})/)?(\d+)/(\d+)\.jpg")
_VIDEO_PATH = re.compile(rf"/videos/(?:({SLUG_PATTERN})/)?(\d+)\.mp4")


class Router:
    def __init__(self, gateway: Gateway, control: ControlApi, stores: StoreDirectory, stats: EmulatorStats,
                 images: ImageShelf | None = None) -> None:
        self._gateway = gateway
        self._control = control
        self._stores = stores
        self._stats = stats
        self._images = images or ImageShelf()

    def route(self, method: str, path: str, query: str, headers: Message, body: bytes) -> Reply:
        if path.startswith(API_PREFIX + "/"):
            return self._api(method, path, query, headers, body)
        if path.startswith(CONTROL_PREFIX):
            return self._control.handle(method, path[len(CONTROL_PREFIX) :].strip("/"), body)
        image = _IMAGE_PATH.fullmatch(path)
        if image is not None and method == "GET":
            catalog = self._catalog_of(image.group(1))
            if catalog is not None:
                return self._image(catalog, int(image.group(2)), int(image.group(3)))
        video = _VIDEO_PATH.fullmatch(path)
        if video is not None and method == "GET":
            catalog = self._catalog_of(video.group(1))
            if catalog is not None:
                return self._video(catalog, int(video.group(2)))
        return json_reply(404, {"error": f"nothing at {method} {path}"})

    def _catalog_of(self, media_slug: str | None) -> Catalog | None:
        store = self._stores.default if media_slug is None else self._stores.store_by_slug(media_slug)
        return store.catalog if store is not None else None

    def _api(self, method: str, path: str, query: str, headers: Message, body: bytes) -> Reply:
        if method == "POST" and path == _TOKEN_PATH:
            return self._gateway.token(body, headers.get("Content-Type"), query)
        if method == "POST" and path == _SEARCH_PATH:
            return self._gateway.search(headers.get("Authorization"), body)
        detail = _DETAIL_PATH.fullmatch(path)
        if method == "GET" and detail is not None:
            return self._gateway.detail(headers.get("Authorization"), detail.group(1))
        return self._gateway.unknown_route()

    def _image(self, catalog: Catalog, origin_product_no: int, number: int) -> Reply:
        """Images sit on a CDN outside the API: no token, no rate limit, no faults."""
        product = catalog.get(origin_product_no)
        if product is None or not 1 <= number <= product.image_count:
            return json_reply(404, {"error": f"no image {number} for product {origin_product_no}"})
        self._stats.record_image_served()
        jpeg = self._images.get(catalog.seed, origin_product_no, number)
        if product.hostile is not None and hostile.bad_image_position(product.hostile) == number:
            return _hostile_media(product.hostile, hostile.image_bytes(product.hostile, jpeg))
        return Reply(200, jpeg, [("Cache-Control", "public, max-age=86400")], content_type="image/jpeg")

    def _video(self, catalog: Catalog, origin_product_no: int) -> Reply:
        """Videos sit on the CDN too. A broken one is served whole-looking (200) but cut short;
        a missing one is a 404, as when the seller deleted it after writing the page."""
        product = catalog.get(origin_product_no)
        if product is None or product.video not in (VIDEO_OK, VIDEO_BROKEN):
            return json_reply(404, {"error": f"no video for product {origin_product_no}"})
        self._stats.record_video_served()
        seed = catalog.seed
        if product.video == VIDEO_OK:
            data = render_product_video(seed, origin_product_no)
        else:
            data = render_broken_video(seed, origin_product_no)
        if product.hostile is not None and hostile.KINDS_BY_NAME[product.hostile].where == "video":
            return _hostile_media(product.hostile, hostile.video_bytes(product.hostile, data))
        return Reply(200, data, [("Cache-Control", "public, max-age=86400")], content_type="video/mp4")


def _hostile_media(kind: str, served: tuple[int, bytes, str]) -> Reply:
    """A hostile record's spoiled picture or video (hostile.py), held first if the kind is slow."""
    time.sleep(hostile.media_stall_seconds(kind))
    status, body, content_type = served
    return Reply(status, body, [], content_type=content_type)
