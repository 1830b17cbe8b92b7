"""Audio analysis of stored media (the ``audio`` extra: essentia, soundfile,
lameenc for the replicas).  Nothing here is imported by the crawler; the commands import
it lazily and say which extra to install when it is missing.

- ``previews``: tempo, key and loudness of a clip (essentia).
- ``keys``: key names, relations and the MIREX key score; tempo accuracies.
- ``report``: ``soundscraping audio-report`` (estimates vs Beatport's labels).
- ``cli``: the ``audio-features`` / ``audio-report`` commands.
"""

EXTRA = "audio"
EXTRA_MISSING = ("needs the 'audio' extra (essentia, soundfile; audio-report also matplotlib): "
                 "pip install -e '.[audio]' in the checkout, or `make install`")
