"""Error pages in the app's frame, in the reader's language, with a way back."""
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error


def test_a_missing_page_is_answered_in_the_frame_in_chinese(alpha, client_for):
    response = client_for(alpha, alpha.manager).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and 'class="nav"' in html and 'href="/followups/today/"' in html
    assert "Page not found" not in html


def test_a_wrong_role_gets_a_403_with_the_reason_and_navigation(alpha, client_for):
    response = client_for(alpha, alpha.rep).get("/followups/board/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问" in html and "仅限主管" in html and 'class="nav"' in html and "返回首页" in html


def test_an_anonymous_404_offers_sign_in(alpha, client_for):
    html = client_for(alpha).get("/no-such-page/").content.decode()
    assert 'href="/accounts/login/"' in html


def test_a_refused_form_explains_itself_in_the_frame(alpha, client_for):
    from conftest import TenantClient

    client = TenantClient(alpha.tenant, alpha.host, enforce_csrf_checks=True)
    client.force_login(alpha.rep)
    response = client.post("/me/availability/", {"availability": "available"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "表单已过期" in html and 'class="nav"' in html


def test_the_500_page_needs_neither_the_database_nor_the_request_context():
    # No db fixture: any query here would raise.
    request = RequestFactory().get("/")
    with translation.override("zh-hans"):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in html and 'href="/"' in html and "favicon.svg" in html


def test_every_page_links_a_favicon_and_the_bare_path_leads_to_it(alpha, client_for):
    client = client_for(alpha, alpha.rep)
    html = client.get("/").content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in html and "favicon.ico" in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
