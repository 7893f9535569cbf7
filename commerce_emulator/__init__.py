"""A faithful emulator of the Naver Commerce API (token, product list, product detail) on loopback."""

from .catalog import Catalog, Product, UnknownProductError
from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorConfig
from .server import EmulatorServer
from .signature import canonical_bcrypt_salt, client_secret_sign

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "Catalog",
    "EmulatorConfig",
    "EmulatorServer",
    "Product",
    "UnknownProductError",
    "canonical_bcrypt_salt",
    "client_secret_sign",
]
