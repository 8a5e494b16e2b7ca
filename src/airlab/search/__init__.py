"""Search: nodes and the journal, operators, memory, policies and the final selection."""
