"""soundscraping: research-grade music datasets from SoundCloud, Beatport and Cambridge-MT."""

__version__ = "0.1.0"
