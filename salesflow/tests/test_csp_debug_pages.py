"""Django's debug "Page not found" page (DEBUG only) carries an inline <style>: its CSP allows that one thing,
every other page keeps the strict style-src; /forecast/ itself is no longer a 404."""
from django.test import override_settings
from django.urls import reverse


def _style_src(response) -> str:
    return next(part for part in response["Content-Security-Policy"].split("; ") if part.startswith("style-src"))


def test_the_debug_404_page_may_style_itself_and_nothing_else_may(alpha, client_for):
    client = client_for(alpha, alpha.manager)
    with override_settings(DEBUG=True):
        debug_404 = client.get("/nowhere-at-all/")
        page = client.get(reverse("forecasting:board"))
    assert debug_404.status_code == 404 and b"NONE,NOARCHIVE" in debug_404.content
    assert _style_src(debug_404) == "style-src 'self' 'unsafe-inline'"
    assert _style_src(page) == "style-src 'self'"
    production_404 = client.get("/nowhere-at-all/")
    assert production_404.status_code == 404 and _style_src(production_404) == "style-src 'self'"


def test_forecast_root_leads_each_role_to_its_page(alpha, client_for):
    manager = client_for(alpha, alpha.manager).get("/forecast/")
    rep = client_for(alpha, alpha.rep).get("/forecast/")
    assert manager.status_code == 302 and manager["Location"] == reverse("forecasting:board")
    assert rep.status_code == 302 and rep["Location"] == reverse("forecasting:commits")
