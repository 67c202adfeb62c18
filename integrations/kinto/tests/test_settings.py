"""Settings: Kinto's style, environment overrides, start-up errors that name the setting."""

import logging

import pytest

import kinto_push
import kinto_stub
from kinto_push.settings import ConfigurationError, Settings


def settings_of(ini, environ=None):
    """The settings the plugin reads once Kinto loaded ``ini`` (prefix stripped, coerced)."""
    return Settings(kinto_stub.load_settings(ini, environ or {}), environ or {})


def test_defaults():
    s = settings_of({"kinto.push.url": "http://127.0.0.1:8080"})
    assert s.events_url == "http://127.0.0.1:8080/v1/events"
    assert s.resources == {"bucket", "collection", "group", "record"}
    assert s.actions == {"create", "update", "delete"}
    assert s.buckets is None
    assert s.auth == "signature" and s.secret is None
    assert s.timeout == 10 and s.max_queue == 10000 and s.max_backoff == 30
    assert s.public_url == "http://127.0.0.1:8080"


def test_kinto_style_values_and_environment_overrides():
    ini = {"kinto.push.url": "http://push.internal:8080/", "kinto.push.secret": "1e5",
           "kinto.push.timeout": "2.5", "kinto.push.max_queue": "50",
           "kinto.push.resources": "record, collection", "kinto.push.buckets": "main  security"}
    s = settings_of(ini)
    # Kinto coerced "1e5" into the float 100000.0 (and "2.5" into a float): the plugin takes
    # the text as written.
    assert s.secret == "1e5" and s.timeout == 2.5 and s.max_queue == 50
    assert s.resources == {"record", "collection"} and s.buckets == {"main", "security"}
    assert s.events_url == "http://push.internal:8080/v1/events"

    environ = {"KINTO_PUSH_URL": "https://push.example.com/prefix/v1",
               "KINTO_PUSH_SECRET": "0012", "KINTO_PUSH_AUTH": "bearer",
               "KINTO_PUSH_MAX_QUEUE": "7", "KINTO_PUSH_ACTIONS": "delete"}
    s = settings_of(ini, environ)
    assert s.events_url == "https://push.example.com/prefix/v1/events"
    assert s.secret == "0012"  # taken as is from the environment
    assert s.auth == "bearer" and s.max_queue == 7 and s.actions == {"delete"}


def test_a_setting_only_in_kintos_unprefixed_copy_is_read():
    s = Settings({"push.url": "http://127.0.0.1:1", "push.secret": 1234}, {})
    assert s.url == "http://127.0.0.1:1" and s.secret == "1234"


def test_environment_alone_is_enough():
    s = Settings({}, {"KINTO_PUSH_URL": "http://localhost:9000"})
    assert s.url == "http://localhost:9000" and s.loopback


@pytest.mark.parametrize("url, words", [
    (None, "kinto.push.url is required"),
    ("", "kinto.push.url is required"),
    ("127.0.0.1:8080", "must start with http:// or https://"),
    ("ws://127.0.0.1:8080", "must start with http:// or https://"),
    ("http://", "has no host"),
    ("http://127.0.0.1:99999", "not a valid URL"),
    ("http://127.0.0.1:8080/?x=1", "?query"),
    ("http://127.0.0.1:8080   # kinto-push", "takes no comment on a value's line"),
    ("http://user:pw@127.0.0.1:8080", "no credentials in the URL"),
])
def test_bad_url_is_a_clear_start_up_error(url, words):
    ini = {} if url is None else {"kinto.push.url": url}
    with pytest.raises(ConfigurationError) as info:
        settings_of(ini)
    assert words in str(info.value)
    assert "kinto.push.url" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_secret_is_required_unless_kinto_push_is_on_this_host():
    with pytest.raises(ConfigurationError, match="kinto.push.secret is required"):
        settings_of({"kinto.push.url": "https://push.example.com"})
    for host in ("127.0.0.1", "127.0.0.53", "localhost", "[::1]"):
        assert settings_of({"kinto.push.url": f"http://{host}:8080"}).secret is None


@pytest.mark.parametrize("key, value, words", [
    ("auth", "basic", "kinto.push.auth = 'basic': must be 'signature' or 'bearer'"),
    ("resources", "record account", "kinto.push.resources: account events are never sent"),
    ("resources", " ", "kinto.push.resources is empty"),
    ("actions", "create read", "kinto.push.actions: unknown action read"),
    ("timeout", "soon", "kinto.push.timeout = 'soon': must be a number"),
    ("timeout", "0", "kinto.push.timeout = '0': must be at least"),
    ("max_queue", "0", "kinto.push.max_queue = '0': must be at least 1"),
    ("max_queue", "many", "kinto.push.max_queue = 'many': must be a number (an integer)"),
    ("secret", "line\nbreak", "kinto.push.secret: must be printable"),
])
def test_bad_values_name_the_setting(key, value, words):
    with pytest.raises(ConfigurationError) as info:
        settings_of({"kinto.push.url": "http://127.0.0.1:8080", f"kinto.push.{key}": value})
    assert words in str(info.value)


def test_a_bearer_secret_must_fit_in_a_header():
    with pytest.raises(ConfigurationError, match="printable ASCII"):
        settings_of({"kinto.push.url": "http://127.0.0.1:1", "kinto.push.secret": "clé",
                     "kinto.push.auth": "bearer"})
    assert settings_of({"kinto.push.url": "http://127.0.0.1:1",
                        "kinto.push.secret": "clé"}).secret == "clé"  # an HMAC key: any text


def test_includeme_refuses_a_bad_configuration_before_subscribing():
    config = kinto_stub.Configurator({"kinto.push.url": "https://push.example.com"})
    with pytest.raises(ConfigurationError, match="kinto.push.secret"):
        config.include(kinto_push)
    assert config.registry._subscribers == []
    assert "kinto-push" not in config.registry.api_capabilities


def test_includeme_subscribes_to_after_resource_changed_and_new_request(caplog):
    from pyramid.events import NewRequest  # the abort watch (abort_watch.py)

    config = kinto_stub.Configurator({"kinto.push.url": "http://127.0.0.1:1",
                                      "kinto.push.secret": "very-secret-value"})
    with caplog.at_level(logging.INFO, logger="kinto_push"):
        config.include(kinto_push)
    try:
        assert [cls for cls, _, _ in config.registry._subscribers] == [
            NewRequest, kinto_stub.AfterResourceChanged]
        assert "http://127.0.0.1:1/v1/events" in caplog.text
        assert "very-secret-value" not in caplog.text
        assert "very-secret-value" not in repr(config.registry.kinto_push.settings)
        # Kinto refuses a second registration of the capability: nothing more is subscribed.
        with pytest.raises(ValueError, match="already registered"):
            config.include(kinto_push)
        assert len(config.registry._subscribers) == 2
    finally:
        config.registry.kinto_push.close(timeout=0)


PG = {"kinto.storage_backend": "kinto.core.storage.postgresql",
      "kinto.storage_url": "postgresql+psycopg2://kinto:pw@127.0.0.1:5432/kinto"}


def test_outbox_defaults_to_auto_and_follows_the_storage():
    base = {"kinto.push.url": "http://127.0.0.1:8080"}
    s = settings_of(base)
    assert s.outbox_mode == "auto" and s.outbox is False and s.relay_interval == 1
    assert settings_of({**base, **PG}).outbox is True
    assert settings_of({**base, **PG, "kinto.push.outbox": "off"}).outbox is False
    assert settings_of({**base, **PG, "kinto.push.outbox": "on"}).outbox is True
    assert settings_of({**base, **PG}, {"KINTO_PUSH_OUTBOX": "off"}).outbox is False
    assert settings_of({**base, **PG, "kinto.push.relay_interval": "0.25"}).relay_interval == 0.25


def test_auto_without_transaction_per_request_falls_back_to_memory_with_a_warning(caplog):
    ini = {"kinto.push.url": "http://127.0.0.1:8080", **PG,
           "kinto.transaction_per_request": "false"}
    with caplog.at_level(logging.WARNING, logger="kinto_push"):
        assert settings_of(ini).outbox is False
    assert "kinto.push.outbox = auto: not using the outbox because " \
           "kinto.transaction_per_request is false" in caplog.text
    # Kinto's own environment variable counts too (it overrides Kinto's default, true).
    ini["kinto.transaction_per_request"] = "true"
    assert settings_of(ini).outbox is True
    assert settings_of(ini, {"KINTO_TRANSACTION_PER_REQUEST": "false"}).outbox is False


@pytest.mark.parametrize("ini, message", [
    ({**PG, "kinto.push.outbox": "on", "kinto.transaction_per_request": "false"},
     "kinto.push.outbox = on needs kinto.transaction_per_request = true"),
    ({"kinto.push.outbox": "on"},
     "kinto.push.outbox = on needs kinto.storage_backend = kinto.core.storage.postgresql"),
    ({"kinto.push.outbox": "on", "kinto.storage_backend": "kinto.core.storage.memory"},
     "(it is 'kinto.core.storage.memory')"),
    ({"kinto.push.outbox": "sometimes"}, "kinto.push.outbox = 'sometimes': must be auto, on or off"),
    ({"kinto.push.relay_interval": "0"}, "kinto.push.relay_interval = '0': must be at least 0.01"),
    ({"kinto.push.relay_interval": "soon"}, "kinto.push.relay_interval = 'soon': must be a number"),
])
def test_outbox_settings_errors_name_the_settings(ini, message):
    with pytest.raises(ConfigurationError) as e:
        settings_of({"kinto.push.url": "http://127.0.0.1:8080", **ini})
    assert message in str(e.value)


def test_the_relay_connects_where_kinto_storage_url_points():
    from kinto_push.outbox_table import describe_dsn, libpq_dsn

    args = libpq_dsn("postgresql+psycopg2://kinto:p%40ss@db.internal:5433/kinto?sslmode=require")
    assert args == {"user": "kinto", "password": "p@ss", "host": "db.internal", "port": 5433,
                    "dbname": "kinto", "sslmode": "require"}
    assert describe_dsn(args) == "db.internal:5433/kinto"  # no password in log lines
    assert libpq_dsn("postgresql://u@127.0.0.1/k") == {"user": "u", "host": "127.0.0.1",
                                                       "dbname": "k"}
    with pytest.raises(ValueError):
        libpq_dsn("sqlite:///kinto.db")
