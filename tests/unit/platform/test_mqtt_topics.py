import pytest

from tradeoff.platform.mqtt import parse_mqtt_url, topic_filter


def test_parse_mqtt_url() -> None:
    address = parse_mqtt_url("mqtt://user:pw@broker.example:1884")
    assert (address.host, address.port, address.username, address.password) == (
        "broker.example",
        1884,
        "user",
        "pw",
    )
    assert parse_mqtt_url("mqtt://localhost").port == 1883
    with pytest.raises(ValueError, match="mqtt://host:1883"):
        parse_mqtt_url("http://localhost")


def test_topic_filter_and_shared_subscription() -> None:
    assert topic_filter("tradeoff") == "tradeoff/+/+/+"
    assert topic_filter("tradeoff", "ingest") == "$share/ingest/tradeoff/+/+/+"
