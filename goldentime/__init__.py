"""Golden Time application shell.

Owns the `goldentime` CLI, the one settings model, the wire contracts (every record on every
topic), topic names, the Kafka connection and the embedded broker, the incident database
engine, and process supervision for `goldentime up`. Domain packages (`dispatch`, `routing`,
`firemap`, `video_relay`, `alerts`, `console`) depend on this shell, never the other way round.
"""

__version__ = "0.1.0"
