"""The outbound request errors (federation.http_errors): what callers log and show."""

from __future__ import annotations

from federation.http_errors import BadContentType, FetchError, HTTPStatusError


def test_errors_are_one_readable_line() -> None:
    error: FetchError = BadContentType("https://x.example/a\nb", "unexpected\r\n content type 'text/html'")
    assert "\n" not in str(error) and "\r" not in str(error)
    assert str(error) == "https://x.example/a b: unexpected content type 'text/html'"
    assert isinstance(HTTPStatusError("u", 500), FetchError)
