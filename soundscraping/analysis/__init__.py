"""What the data says: comment sentiment (``sentiment``) and the moments of a
track people react to (``moments``).  Needs the ``analysis`` extra
(vaderSentiment, lingua-language-detector); crawler hosts do without it."""
