"""Synthetic music for the replicas: clips with a known tempo and key (drums
plus a chord progression), encoded as real MP3 (LAME, through ``lameenc``),
and sums of synthetic stems for the Cambridge-MT multitracks."""
