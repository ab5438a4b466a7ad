"""Golden Time ground floor.

Owns the shell of the `goldentime` CLI, the one settings model, the wire contracts (every
record on every topic), topic names, the Kafka clients, the embedded broker and the faust app
factory, the incident database engine, the clock and the geo helpers. Every other package
depends on it, never the other way round (checked by import-linter, `make lint`); what composes
the domains into processes (`goldentime up`, demo, chaos) is the upper floor, `ops`.
"""

__version__ = "0.1.0"
