"""A faithful emulator of the Naver Commerce API (token, product list, product detail) on loopback."""

from .apps import credentials_env, emulated_apps, registry_toml
from .catalog import Catalog, Product, UnknownProductError
from .config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatedApp, EmulatorConfig
from .server import EmulatorServer
from .signature import canonical_bcrypt_salt, client_secret_sign
from .stores import UnknownStoreError

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "Catalog",
    "EmulatedApp",
    "EmulatorConfig",
    "EmulatorServer",
    "Product",
    "UnknownProductError",
    "UnknownStoreError",
    "canonical_bcrypt_salt",
    "client_secret_sign",
    "credentials_env",
    "emulated_apps",
    "registry_toml",
]
