"""The stand-in's ``kinto/core/utils.py`` (see kinto_stub.py): the URI prefix, and the
settings as Kinto reads them (the ``kinto.`` prefix stripped, both keys kept; values coerced
with ``json.loads`` where it can, ``native_value``; overridden from ``KINTO_<NAME>``).
"""

import json
import os

def strip_uri_prefix(path):
    return path[len("/v1"):] if path.startswith("/v1/") else path


def native_value(value):
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if parsed != float("inf"):
                value = parsed
        except ValueError:
            return value
    return value


def read_env(key, value, environ=None):
    environ = os.environ if environ is None else environ
    envkey = key.replace(".", "_").replace("-", "_").upper()
    if envkey in environ:
        return native_value(environ[envkey])
    return value


def load_settings(ini, environ=None, project_name="kinto"):
    """What ``load_default_settings`` does to the ini file's settings."""
    settings = dict(ini)
    for key, value in sorted(settings.items()):
        value = native_value(value)
        unprefixed = key.split(".", 1)[1] if key.startswith(project_name + ".") else key
        value = read_env(unprefixed, value, environ)
        value = read_env(f"{project_name}.{unprefixed}", value, environ)
        settings[unprefixed] = value
    return settings
