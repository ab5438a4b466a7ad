"""Built-in commands of the goldentime CLI (one module per concern)."""
