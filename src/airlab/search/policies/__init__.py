"""Built-in policies; importing this package registers them."""

from airlab.search.policies import greedy  # noqa: F401
