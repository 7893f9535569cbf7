"""The Naver Commerce API client: signed tokens, pacing per API, retries, call records."""

from .call_stats import CallStats, percentile
from .client import DEFAULT_BASE_URL, CommerceApiClient
from .errors import (
    AuthenticationError,
    ClientRequestError,
    CommerceApiError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    TransientError,
)
from .models import ListedProduct, ProductDetail, SearchPage
from .resource import CommerceApiResource
from .retry import RetryPolicy

__all__ = [
    "AuthenticationError",
    "CallStats",
    "ClientRequestError",
    "CommerceApiClient",
    "CommerceApiError",
    "CommerceApiResource",
    "DEFAULT_BASE_URL",
    "ListedProduct",
    "MalformedResponseError",
    "NotFoundError",
    "ProductDetail",
    "RateLimitedError",
    "RetryPolicy",
    "SearchPage",
    "TransientError",
    "percentile",
]
