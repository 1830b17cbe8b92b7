"""Spiders: one per site and job.  They decide what to request next; parsing
lives in soundscraping.parsers."""
