"""What an htmx request asks of a view."""


def wants_partial(request, target: str) -> bool:
    """True when htmx swaps only the element with id `target`.

    A history restore (back button after the cache was evicted) asks for the whole page
    even though it comes from htmx, so it gets the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target
