"""Spiders: one per site and job.  They decide what to request next; parsing,
matching and anti-bot rules live with their site (soundscraping.sites), SQL in
soundscraping.storage."""
