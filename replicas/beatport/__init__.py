"""Local replica of Beatport (www.beatport.com pages, geo-media image CDN).

    catalogue = build_catalogue(CatalogueConfig(seed=7))
    with BeatportReplica(catalogue, Quirks(challenge=True)) as bp:
        bp.url, bp.urls["media"], bp.stats

    uploads = labelled_uploads(catalogue)   # SoundCloud-style titles + the truth
"""

from replicas.beatport.server import BeatportReplica, Quirks, Stats
from replicas.beatport.uploads import LabelledUpload, labelled_uploads
from replicas.beatport.world import Catalogue, CatalogueConfig, Track, build_catalogue

__all__ = ["BeatportReplica", "Catalogue", "CatalogueConfig", "LabelledUpload", "Quirks", "Stats", "Track",
           "build_catalogue", "labelled_uploads"]
