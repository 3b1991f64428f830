"""A regional director is shown as one, with the regions they direct."""


def test_the_team_page_shows_a_regional_director_with_their_region(alpha, client_for):
    html = client_for(alpha, alpha.admin).get("/team/").content.decode()
    from salesflow.org.models import Member

    name = Member.objects.get(user=alpha.director).full_name
    row = html[html.index(name):]
    row = row[:row.index("</tr>")]
    assert "区域总监" in row and "华东区" in row and "经理" not in row


def test_a_directors_home_says_so(alpha, client_for):
    html = client_for(alpha, alpha.director).get("/").content.decode()
    place = html[html.index('id="my-place"'):]
    assert place.startswith('id="my-place">区域总监 · 华东区<')


def test_a_team_manager_stays_a_manager_with_their_team(alpha, client_for):
    html = client_for(alpha, alpha.manager).get("/").content.decode()
    assert 'id="my-place">经理 · A组<' in html


def test_in_english_a_director_reads_regional_director(alpha, client_for):
    client = client_for(alpha, alpha.director)
    client.cookies["django_language"] = "en"
    html = client.get("/").content.decode()
    assert 'id="my-place">Regional director · ' in html and "区域总监" not in html
