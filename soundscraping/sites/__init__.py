"""Page parsers: one module per site.  Pure functions from a response body to
items and links, so tests can feed them saved responses."""


class MalformedPage(ValueError):
    """A response that does not have the structure its parser expects."""
