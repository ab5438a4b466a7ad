"""The upper floor: processes composed from every domain (up, demo, chaos, fault drill,
consistency checker, supervisor) and the commands that start them. Nothing imports it."""
