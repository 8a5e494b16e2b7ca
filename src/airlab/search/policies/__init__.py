"""Built-in policies; importing this package registers them."""

from airlab.search.policies import evolution, greedy, mcts, steady_state  # noqa: F401
