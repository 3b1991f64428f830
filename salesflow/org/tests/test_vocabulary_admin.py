from audit.models import AuditEntry
from salesflow.org.models import VocabularyEntry
from salesflow.org.vocabularies import vocabulary_label, vocabulary_resolve


def _change(entry, **fields):
    data = {"label_zh": entry.label_zh, "label_en": entry.label_en, "synonyms": ",".join(entry.synonyms),
            "position": entry.position, "active": "on" if entry.active else ""}
    return {**data, **fields}


def test_an_admin_adds_a_synonym_and_intake_resolves_it_at_once_audited(alpha, client_for, django_capture_on_commit_callbacks):
    entry = VocabularyEntry.objects.get(kind="region", code="华南区")
    assert vocabulary_resolve("region", "Guangdong") is None  # now remembered
    client = client_for(alpha, alpha.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/org/vocabularyentry/{entry.pk}/change/",
                               _change(entry, synonyms="华南,Guangdong,广东", label_en="South China region"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert vocabulary_resolve("region", "guangdong") == "华南区"
    assert vocabulary_label("region", "华南区", language="en") == "South China region"
    assert AuditEntry.objects.filter(verb="vocabulary.changed", target_id=str(entry.pk)).exists()


def test_a_synonym_already_meaning_another_value_is_refused(alpha, client_for):
    entry = VocabularyEntry.objects.get(kind="region", code="华南区")
    client = client_for(alpha, alpha.admin)
    response = client.post(f"/admin/org/vocabularyentry/{entry.pk}/change/", _change(entry, synonyms="华南,华东"))
    assert response.status_code == 200
    assert "华东区" in response.content.decode()
    entry.refresh_from_db()
    assert "华东" not in entry.synonyms


def test_a_code_too_long_for_its_list_or_with_a_semicolon_is_refused(alpha, client_for):
    client = client_for(alpha, alpha.admin)
    response = client.post("/admin/org/vocabularyentry/add/", {
        "kind": "channel", "code": "a_channel_code_longer_than_twenty", "label_zh": "长", "label_en": "Long",
        "synonyms": "", "position": 5, "active": "on"})
    assert response.status_code == 200 and not VocabularyEntry.objects.filter(label_en="Long").exists()
    response = client.post("/admin/org/vocabularyentry/add/", {
        "kind": "industry", "code": "矿业;能源", "label_zh": "矿业", "label_en": "Mining", "synonyms": "", "position": 5,
        "active": "on"})
    assert response.status_code == 200 and not VocabularyEntry.objects.filter(label_en="Mining").exists()


def test_a_new_value_added_in_admin_is_offered_and_audited(alpha, client_for, django_capture_on_commit_callbacks):
    client = client_for(alpha, alpha.admin)
    vocabulary_resolve("industry", "矿业")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/org/vocabularyentry/add/", {
            "kind": "industry", "code": "矿业", "label_zh": "矿业", "label_en": "Mining", "synonyms": "mining,能源矿产",
            "position": 5, "active": "on"})
    assert response.status_code == 302
    assert vocabulary_resolve("industry", "MINING") == "矿业"
    assert AuditEntry.objects.filter(verb="vocabulary.created").exists()


def test_values_cannot_be_deleted_and_codes_cannot_change(alpha, client_for):
    entry = VocabularyEntry.objects.get(kind="channel", code="api")
    client = client_for(alpha, alpha.admin)
    assert client.get(f"/admin/org/vocabularyentry/{entry.pk}/delete/").status_code == 403
    client.post(f"/admin/org/vocabularyentry/{entry.pk}/change/", _change(entry, code="apx"))
    entry.refresh_from_db()
    assert entry.code == "api"


def test_a_channel_the_software_assigns_cannot_be_deactivated(alpha, client_for):
    entry = VocabularyEntry.objects.get(kind="channel", code="web_form")
    response = client_for(alpha, alpha.admin).post(f"/admin/org/vocabularyentry/{entry.pk}/change/", _change(entry, active=""))
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.active


def test_only_admins_manage_the_lists(alpha, client_for):
    assert client_for(alpha, alpha.manager).get("/admin/org/vocabularyentry/").status_code == 302
