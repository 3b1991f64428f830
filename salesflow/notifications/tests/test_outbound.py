"""Outbound requests go only where they may: a real server on 127.0.0.1 must hear nothing."""
import ipaddress
import socket

import pytest
from django.db import transaction

from salesflow.i18n import verbatim
from salesflow.notifications import outbound, transports
from salesflow.notifications.models import Channel, Delivery
from salesflow.notifications.outbound import EndpointRefused, endpoint_check
from salesflow.notifications.services import channel_test_send, delivery_send, notify

from .sinks import RobotServer
from salesflow.i18n import verbatim

PRODUCTION = {"SALESFLOW_OUTBOUND_HTTPS_ONLY": True, "SALESFLOW_OUTBOUND_TRUSTED_HOSTS": []}


@pytest.fixture
def robot():
    server = RobotServer().start()
    yield server
    server.stop()


@pytest.fixture
def production(settings):
    for name, value in PRODUCTION.items():
        setattr(settings, name, value)
    return settings


def test_the_admin_form_refuses_a_robot_pointed_at_an_internal_address(alpha, robot, client_for, production):
    admin = client_for(alpha, alpha.admin)
    response = admin.post("/admin/notifications/channel/add/", {
        "name": "internal", "kind": "wecom", "webhook_url": robot.url("/internal-only"), "message_format": "markdown",
        "enabled": "on",
    })
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["webhook_url"]
    assert error == str(EndpointRefused.official_host("qyapi.weixin.qq.com").message)
    assert not Channel.objects.filter(name="internal").exists()
    response = admin.post("/admin/notifications/channel/add/", {
        "name": "plain", "kind": "dingtalk", "webhook_url": "http://oapi.dingtalk.com/robot/send?access_token=t",
        "message_format": "markdown", "enabled": "on",
    })
    assert response.context["adminform"].form.errors["webhook_url"] == [str(EndpointRefused.https_only().message)]
    response = admin.post("/admin/notifications/channel/add/", {
        "name": "official", "kind": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=t",
        "message_format": "markdown", "enabled": "on",
    })
    assert response.status_code == 302 and Channel.objects.filter(name="official").exists()


def test_send_test_and_deliveries_to_a_stored_internal_address_send_nothing(alpha, robot, production):
    # A channel saved before the checks existed (or written around the form).
    channel = Channel.objects.create(name="old", kind=Channel.Kind.WECOM, webhook_url=robot.url("/internal-only?key=k"))
    outcome = channel_test_send(actor=alpha.admin, channel=channel)
    assert outcome.status == "failed" and "qyapi.weixin.qq.com" in outcome.error
    with transaction.atomic():
        notify(recipients=[alpha.rep], event_key="e1", title=verbatim("t"), body=verbatim("b"))
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk).status == "failed"
    assert robot.received == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1",
                                     "224.0.0.1"])
def test_internal_addresses_are_not_public(address):
    assert not outbound.address_is_public(ipaddress.ip_address(address))


def test_a_public_address_is_public():
    assert outbound.address_is_public(ipaddress.ip_address("203.0.113.0").__class__("140.205.94.189"))


def test_a_host_name_resolving_to_an_internal_address_is_refused_before_connecting(robot, production, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", robot.port)),
    ])
    with pytest.raises(EndpointRefused):
        outbound.post("https://hooks.example.com/x", b"{}", kind="webhook", timeout=0.5)
    assert robot.received == []


def test_the_connection_goes_to_the_checked_address_even_if_dns_changes_its_answer(robot, settings, monkeypatch):
    settings.SALESFLOW_OUTBOUND_HTTPS_ONLY = False
    settings.SALESFLOW_OUTBOUND_TRUSTED_HOSTS = []
    answers = iter(["192.0.2.10", "127.0.0.1"])  # first a public-looking answer, then the rebinding one
    real = socket.getaddrinfo
    monkeypatch.setattr(outbound, "address_is_public", lambda address: str(address) != "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: (
        [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))] if host == "rebind.example" else real(host, port, *a, **k)
    ))
    with pytest.raises(transports.TemporaryFailure):
        outbound.post(f"http://rebind.example:{robot.port}/x", b"{}", kind="webhook", timeout=0.3)
    assert robot.received == []


@pytest.mark.parametrize("url, kind", [
    ("https://oapi.dingtalk.com.evil.example/robot/send", "dingtalk"),
    ("https://oapi.dingtalk.com:8443/robot/send", "dingtalk"),
    ("https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send", "wecom"),
    ("ftp://qyapi.weixin.qq.com/x", "wecom"),
    ("https://localhost/x", "webhook"),
    ("https://169.254.169.254/latest/meta-data/", "webhook"),
])
def test_endpoints_outside_the_rules_are_refused(url, kind, production):
    with pytest.raises(EndpointRefused):
        endpoint_check(url, kind=kind)


def test_the_official_hosts_are_accepted(production):
    endpoint_check("https://oapi.dingtalk.com/robot/send?access_token=t", kind="dingtalk")
    endpoint_check("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", kind="wecom")


def test_an_answer_is_never_repeated_to_the_admin(alpha, robot):
    channel = Channel.objects.create(name="r", kind=Channel.Kind.WECOM, webhook_url=robot.url("/s?key=k"))
    robot.answers.append((200, b"<html>internal secret page</html>"))
    outcome = channel_test_send(actor=alpha.admin, channel=channel)
    assert outcome.status == "failed" and "HTTP 200" in outcome.error and "secret" not in outcome.error
    robot.answers.append((200, {"errcode": 93000, "errmsg": "secret detail"}))
    outcome = channel_test_send(actor=alpha.admin, channel=channel)
    assert outcome.error == "errcode 93000"


def test_redirects_are_not_followed(alpha, robot):
    elsewhere = RobotServer().start()
    try:
        channel = Channel.objects.create(name="r", kind=Channel.Kind.WECOM, webhook_url=robot.url("/s?key=k"))
        robot.answers.append((307, b"", {"Location": elsewhere.url("/internal")}))
        outcome = channel_test_send(actor=alpha.admin, channel=channel)
        assert outcome.status == "failed" and "redirect not followed" in outcome.error
        assert elsewhere.received == [] and len(robot.received) == 1
    finally:
        elsewhere.stop()
