"""Errors of the gazetteer and reverse geocoder (one tree, rooted at GoldenTimeError)."""

from __future__ import annotations

from goldentime.errors import ContractError, DataError, GoldenTimeError


class PlacesError(GoldenTimeError):
    """Anything the places package refuses."""


class PlacesDataError(DataError, PlacesError):
    """A shipped data file is missing or cannot be read."""


class PlaceQueryError(ContractError, PlacesError):
    """A search or reverse-geocoding request is not valid (names the field)."""
