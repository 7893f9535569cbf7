"""The Naver Commerce API client: signed tokens, pacing per API, retries, call records."""

from .call_stats import CallStats, percentile
from .client import DEFAULT_BASE_URL, CommerceApiClient
from .errors import (
    ApiAccessError,
    ApiUnreachableError,
    AuthenticationError,
    ClientRequestError,
    ClockSkewError,
    CommerceApiError,
    CredentialsRefusedError,
    IpNotAllowedError,
    MalformedResponseError,
    NotFoundError,
    QuotaLimitedError,
    RateLimitedError,
    TransientError,
)
from .models import ListedProduct, ProductDetail, SearchPage
from .resource import CommerceApiResource
from .retry import RetryPolicy

__all__ = [
    "ApiAccessError",
    "ApiUnreachableError",
    "AuthenticationError",
    "CallStats",
    "ClientRequestError",
    "ClockSkewError",
    "CommerceApiClient",
    "CommerceApiError",
    "CommerceApiResource",
    "CredentialsRefusedError",
    "DEFAULT_BASE_URL",
    "IpNotAllowedError",
    "ListedProduct",
    "MalformedResponseError",
    "NotFoundError",
    "ProductDetail",
    "QuotaLimitedError",
    "RateLimitedError",
    "RetryPolicy",
    "SearchPage",
    "TransientError",
    "percentile",
]
