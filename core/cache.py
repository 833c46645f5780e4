"""The database cache, with one disagreement of Django's own mended.

Django's ``DatabaseCache`` rounds the clock down to the second when ``add()`` asks whether a
key is still there, and does not when ``get()`` asks (expiry times are stored to the
second). For the whole second after a key expires, ``add()`` finds it and ``get()`` does
not, so ``add()`` refuses and the ``incr()`` that follows raises ``ValueError``. django-axes
counts wrong passwords exactly so (``add``, else ``incr``): a wrong password in the second a
lockout count ran out answered the login page and the token endpoint with a server error.

Here ``incr()`` of a key that has expired starts the count again at ``delta``, as ``add()``
would have done a second later. Callers that need "no such key" to fail must not use it.
"""

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache

_MISSING = object()


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        value = self.get(key, _MISSING, version=version)
        if value is _MISSING:
            self.set(key, delta, version=version)
            return delta
        value += delta
        self.set(key, value, version=version)
        return value
