"""The review UI for brand and channel managers, the partner API and report exports (next wave).

Nothing is served from here yet: the store API it will use (scoped queries in ``store.access``,
the violation lifecycle in ``detection``) is built and tested first.
"""

__all__: list[str] = []
