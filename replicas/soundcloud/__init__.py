"""Local replica of SoundCloud (soundcloud.com, api-v2, a-v2/i1.sndcdn.com).

    world = build_world(WorldConfig(artists=3))
    with SoundCloudReplica(world, Quirks(datadome=False)) as sc:
        sc.urls["api"], sc.client_id, sc.stats

    graph = GraphWorld(GraphWorldConfig(accounts=50))     # or GraphWorld.from_edges(...)
    with SoundCloudReplica(graph) as sc:                    # interaction graph routes
        sc.graph.interactions_of(graph.account_ids[0])
"""

from replicas.soundcloud.graph import GraphWorld, GraphWorldConfig
from replicas.soundcloud.server import Quirks, SoundCloudReplica, Stats
from replicas.soundcloud.world import World, WorldConfig, build_world

__all__ = ["GraphWorld", "GraphWorldConfig", "Quirks", "SoundCloudReplica", "Stats", "World", "WorldConfig",
           "build_world"]
