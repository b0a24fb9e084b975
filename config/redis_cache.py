"""Django's Redis cache, with one client per connection pool instead of one per call.

``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the pool on every cache call,
and a client registers a couple of hundred reply callbacks as it is built: on the cached home that
was a third of the time spent in the cache (bench/hotspots.py). A ``redis.Redis`` is safe to share
between threads (each command takes a connection from the pool), so it is built once per pool.
"""

from django.core.cache.backends import redis


class ClientPerPool(redis.RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ClientPerPool
