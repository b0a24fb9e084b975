"""The Redis cache builds one client per connection pool, and still reads and writes."""

import pytest
from django.core.cache import caches

from config.redis_cache import RedisCache


@pytest.mark.redis
def test_the_redis_cache_reuses_one_client_per_pool():
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.fail("CACHE_URL names Redis in this run: the cache must be config.redis_cache.RedisCache")
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    stored = {"redis-cache-a": 1, "redis-cache-b": [2]}
    cache.set_many(stored, timeout=30)
    assert cache.get_many([*stored, "redis-cache-c"]) == stored
