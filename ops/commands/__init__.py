"""Commands that compose domains: up, worker, console, demo, chaos, ..."""
