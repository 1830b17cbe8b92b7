"""Local replicas of the sites the crawler talks to, for offline tests."""

from replicas.runner import AppThread

__all__ = ["AppThread"]
