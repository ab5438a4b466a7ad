"""Commands of the ground floor (call, topics); those that compose domains are in ops.commands."""
