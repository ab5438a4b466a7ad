"""Delivery channels behind one interface (:class:`~alerts.channels.base.MessageChannel`)."""
