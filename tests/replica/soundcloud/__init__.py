"""Local replica of SoundCloud (soundcloud.com, api-v2, a-v2/i1.sndcdn.com).

    world = build_world(WorldConfig(artists=3))
    with SoundCloudReplica(world, Quirks(datadome=False)) as sc:
        sc.urls["api"], sc.client_id, sc.stats
"""

from tests.replica.soundcloud.server import Quirks, SoundCloudReplica, Stats
from tests.replica.soundcloud.world import World, WorldConfig, build_world

__all__ = ["Quirks", "SoundCloudReplica", "Stats", "World", "WorldConfig", "build_world"]
