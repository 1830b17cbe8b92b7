"""Matching quality on a labelled set of SoundCloud titles, through the Beatport
replica's search: the spider's request, the real parsers, the matcher."""

from __future__ import annotations

import http.client
from collections import Counter
from urllib.parse import urlencode, urlsplit

from replicas.beatport import BeatportReplica, Quirks, build_catalogue, labelled_uploads
from soundscraping import settings as project_settings
from soundscraping.sites.beatport.matching import (
    Candidate,
    best_match,
    parse_upload,
    search_queries,
)
from soundscraping.sites.beatport.parsers import candidate_from_search, next_data, search_results

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


class Search:
    """The spider's search request, over one keep-alive connection."""

    def __init__(self, base_url: str):
        self.conn = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)

    def __call__(self, query: str) -> list[Candidate]:
        self.conn.request("GET", "/search/tracks?" + urlencode({"q": query, "page": 1, "per-page": 25}),
                          headers={"User-Agent": UA})
        response = self.conn.getresponse()
        body = response.read()
        assert response.status == 200, (query, response.status)
        items = search_results(next_data(body)) or []
        return [c for rank, item in enumerate(items) if (c := candidate_from_search(item, rank))]


def test_matching_quality_on_labelled_soundcloud_titles() -> None:
    catalogue = build_catalogue()
    uploads = labelled_uploads(catalogue)
    assert len(uploads) >= 300 and sum(1 for u in uploads if not u.expected) >= 60
    threshold = project_settings.BEATPORT_MATCH_THRESHOLD
    confusion: Counter[str] = Counter()
    errors: list[str] = []
    with BeatportReplica(catalogue, Quirks()) as replica:
        search = Search(replica.url)
        for labelled in uploads:
            # The matcher sees what SoundCloud shows, never the label.
            upload = parse_upload(labelled.title, labelled.uploader, labelled.duration_ms)
            match = None
            for query in search_queries(upload):
                assert query.count("(") <= 1 and query.count(")") <= 1
                match, _ = best_match(upload, search(query), threshold)
                if match:
                    break
            got = match.candidate.track_id if match else None
            if labelled.expected:
                outcome = "TP" if got in labelled.expected else ("FN" if got is None else "FP_wrong_track")
            else:
                outcome = "TN" if got is None else "FP_no_release"
            confusion[outcome] += 1
            if outcome not in ("TP", "TN"):
                errors.append(f"{outcome} [{labelled.style}] {labelled.title!r} by {labelled.uploader!r} -> "
                              f"{match.candidate.display if match else None}")
        assert not replica.stats.get("parens_403")
    tp, fn = confusion["TP"], confusion["FN"]
    fp = confusion["FP_wrong_track"] + confusion["FP_no_release"]
    precision, recall = tp / (tp + fp), tp / sum(1 for u in uploads if u.expected)
    print(f"\nBeatport matching on {len(uploads)} labelled SoundCloud titles (threshold {threshold}): "
          f"TP={tp} FP={fp} (wrong track {confusion['FP_wrong_track']}, no release {confusion['FP_no_release']}) "
          f"FN={fn} TN={confusion['TN']}; precision={precision:.3f} recall={recall:.3f}")
    for line in errors:
        print("  ", line)
    assert precision >= 0.98 and recall >= 0.95, errors
