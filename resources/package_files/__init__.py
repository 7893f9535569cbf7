"""Package files on disk: the writer that publishes packages atomically, and the image cache it keeps."""

from .image_cache import CachedImage, CachedKeyframe, ImageCache, ImageInfo
from .writer import DEFAULT_PACKAGES_DIR, DiskFullError, PackageWriter, as_disk_full

__all__ = [
    "DEFAULT_PACKAGES_DIR",
    "CachedImage",
    "CachedKeyframe",
    "DiskFullError",
    "ImageCache",
    "ImageInfo",
    "PackageWriter",
    "as_disk_full",
]
