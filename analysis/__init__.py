"""Needs analysis for children's services: official data in, benchmarked indicators out."""

__version__ = "0.1.0"
