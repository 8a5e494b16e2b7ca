"""Program tasks: a candidate edits starter code; a hidden, task-owned evaluator scores it."""
