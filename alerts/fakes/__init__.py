"""Loopback fakes of external services (Twilio Messages API, Mastodon) for tests and the demo."""
