"""Bridge and tunnel monitoring: registry, ingest, rules and alarms (issue 8).

* :mod:`sensors.registry` - monitored structures (Seoul bridges, road-graph bridges and
  tunnels, the Han flood bridges) and their sensors; :mod:`sensors.profiles` - thresholds.
* :mod:`sensors.rules` - the pure rules engine (levels with hysteresis, counts in a window,
  rates of rise, sensor faults kept apart from real alarms).
* :mod:`sensors.ingest`, :mod:`sensors.api`, :mod:`sensors.mqtt`, :mod:`sensors.replay` -
  HTTP batch, MQTT and file input to ``sensor.readings``.
* :mod:`sensors.agents` - the faust agent ``sensor.readings`` -> ``sensor.alarms``.
"""
