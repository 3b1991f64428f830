from django.db import transaction

from salesflow.i18n import verbatim
from salesflow.notifications.models import Notification
from salesflow.notifications.services import notify


def _give(user, key, title="新线索"):
    with transaction.atomic():
        return notify(recipients=[user], event_key=key, title=verbatim(title), body=verbatim("请尽快联系"), link="/notifications/")[0]


def test_the_inbox_lists_only_my_own_notifications(alpha, client_for, django_assert_max_num_queries):
    _give(alpha.rep, "a", title="给销售的")
    _give(alpha.manager, "b", title="给经理的")
    client = client_for(alpha, alpha.rep)
    with django_assert_max_num_queries(10):
        response = client.get("/notifications/")
    assert response.status_code == 200
    assert "给销售的" in response.content.decode() and "给经理的" not in response.content.decode()


def test_the_badge_counts_unread_and_keeps_a_plain_link(alpha, client_for, django_assert_max_num_queries):
    _give(alpha.rep, "a")
    _give(alpha.rep, "b")
    client = client_for(alpha, alpha.rep)
    with django_assert_max_num_queries(8):  # one more: the person's saved language, read per request
        html = client.get("/notifications/badge/").content.decode()
    assert 'href="/notifications/"' in html and 'hx-get="/notifications/badge/"' in html and ">2<" in html


def test_marking_read_touches_only_my_notifications(alpha, client_for):
    mine = _give(alpha.rep, "a")
    theirs = _give(alpha.manager, "b")
    client = client_for(alpha, alpha.rep)
    response = client.post("/notifications/read/", {"id": [mine.pk, theirs.pk]})
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_opening_a_notification_follows_only_local_links(alpha, client_for):
    mine = _give(alpha.rep, "a")
    client = client_for(alpha, alpha.rep)
    assert client.post("/notifications/read/", {"id": mine.pk, "next": "//evil.example/"})["Location"] == "/notifications/"
    assert client.post("/notifications/read/", {"id": mine.pk, "next": "/leads/"})["Location"] == "/leads/"


def test_an_anonymous_visitor_is_sent_to_sign_in(alpha, client_for):
    response = client_for(alpha).get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_session_from_another_tenant_is_worthless_here(alpha, beta, client_for):
    _give(alpha.rep, "a", title="机密")
    outsider = client_for(beta, beta.rep)
    # The beta session cookie presented on the alpha host: no such session there.
    outsider.defaults["HTTP_HOST"] = alpha.host
    response = outsider.get("/notifications/")
    assert response.status_code == 302 and Notification.objects.filter(message__title__params__text="机密").count() == 1
