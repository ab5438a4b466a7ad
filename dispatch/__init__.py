"""Dispatch: the faust-streaming app of the control centre.

Owns call intake, correlation of calls, video and sensor events into incidents, the incident
lifecycle and timeline, run cards, unit recommendation, assignments, unit status, and the
incident record store (``dispatch.store``). Talks to ``routing`` and ``firemap`` through their
public functions, and to ``video_relay`` and ``alerts`` only through topics.
"""
