import pytest
from django.db import connection


@pytest.fixture
def no_db(django_db_blocker):
    with django_db_blocker.unblock():
        yield


def test_healthz_answers_200_when_database_and_redis_answer(no_db, client):
    response = client.get("/healthz", HTTP_HOST="anything.example")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_answers_503_naming_redis_when_it_is_down(no_db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 503
    assert response.json()["failed"] == ["redis"]


def test_healthz_answers_503_naming_the_database_when_it_is_down(no_db, client):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["HOST"] = "127.0.0.1"
    try:
        response = client.get("/healthz", HTTP_HOST="localhost")
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
