"""Web console of the control centre (FastAPI).

Owns the dispatcher board and map, the call-intake form and HTTP intake API, the incident API,
and (as their issues land) the crew view, alert authoring and the public alert page. Reads the
incident record from the database and writes calls and commands to topics.
"""
