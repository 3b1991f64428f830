import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from salesflow.org.models import VocabularyEntry
from salesflow.org.vocabularies import (
    VocabularyChoiceField, VocabularyMultipleChoiceField, vocabulary_choices, vocabulary_codes, vocabulary_ensure,
    vocabulary_forget, vocabulary_label, vocabulary_resolve,
)


def test_a_new_tenant_starts_with_the_default_lists(alpha):
    assert {"华东区", "华北区", "上海"} <= set(vocabulary_codes("region"))
    assert "医疗器械" in vocabulary_codes("industry") and "影像设备" in vocabulary_codes("product_line")
    assert set(vocabulary_codes("tier")) == {"tertiary_hospital", "secondary_hospital", "township_clinic", "key_account", "sme"}
    assert {"web_form", "api", "csv", "manual", "ad_platform", "phone_400", "wecom", "referral", "exhibition"} == set(
        vocabulary_codes("channel"))


@pytest.mark.parametrize("raw", ["华东区", "华东", "East China", "  east   china ", "ＥＡＳＴ　ＣＨＩＮＡ", "华东地区"])
def test_codes_labels_and_synonyms_resolve_to_the_canonical_code_whatever_the_case_width_or_spaces(alpha, raw):
    assert vocabulary_resolve("region", raw) == "华东区"


def test_unknown_blank_and_non_text_values_resolve_to_nothing(alpha):
    assert vocabulary_resolve("region", "火星") is None
    assert vocabulary_resolve("region", "") is None
    assert vocabulary_resolve("region", 42) is None
    assert vocabulary_resolve("tier", "华东区") is None  # each list is its own


def test_an_inactive_value_is_no_longer_offered_or_accepted_but_records_keep_their_label(alpha):
    VocabularyEntry.objects.filter(kind="tier", code="sme").update(active=False)
    vocabulary_forget()
    assert vocabulary_resolve("tier", "sme") is None and "sme" not in vocabulary_codes("tier")
    assert "sme" not in dict(vocabulary_choices("tier"))
    with translation.override("zh-hans"):
        assert dict(vocabulary_choices("tier", keep="sme"))["sme"] == "中小企业"
    with translation.override("en"):
        assert vocabulary_label("tier", "sme") == "Small or mid-size business"


def test_labels_and_choices_follow_the_readers_language(alpha):
    with translation.override("zh-hans"):
        assert vocabulary_label("tier", "tertiary_hospital") == "三甲医院"
        assert ("tertiary_hospital", "三甲医院") in vocabulary_choices("tier")
    with translation.override("en"):
        assert vocabulary_label("tier", "tertiary_hospital") == "Tertiary hospital"
        assert ("华东区", "East China") in vocabulary_choices("region")
    assert vocabulary_label("tier", "moon") == "moon" and vocabulary_label("tier", "") == ""


def test_a_legacy_record_holding_a_synonym_shows_its_values_label(alpha):
    with translation.override("en"):
        assert vocabulary_label("tier", "三级医院") == "Tertiary hospital"


def test_the_template_filter_shows_the_label_in_the_readers_language(alpha):
    template = Template('{% load vocabulary %}{{ code|vocabulary_label:"channel" }}|{{ codes|vocabulary_labels:"industry" }}')
    with translation.override("zh-hans"):
        assert template.render(Context({"code": "phone_400", "codes": ["医疗器械", "快消分销"]})) == "400 电话|医疗器械、快消分销"
    with translation.override("en"):
        assert template.render(Context({"code": "phone_400", "codes": ["医疗器械"]})) == "400 phone line|Medical devices"


class _Form(forms.Form):
    region = VocabularyChoiceField("region", required=False)
    tier = VocabularyChoiceField("tier")
    industries = VocabularyMultipleChoiceField("industry")


def test_the_form_fields_clean_synonyms_to_codes(alpha):
    form = _Form({"region": " 华东 ", "tier": "三级医院", "industries": ["医疗", "SaaS软件", "医疗器械"]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"region": "华东区", "tier": "tertiary_hospital", "industries": ["医疗器械", "SaaS软件"]}


def test_the_form_fields_refuse_unknown_values_naming_the_allowed_ones(alpha):
    with translation.override("en"):
        form = _Form({"region": "火星", "tier": "moon", "industries": ["矿业"]})
        assert not form.is_valid()
    assert "allowed: tertiary_hospital, secondary_hospital, township_clinic, key_account, sme" in form.errors["tier"][0]
    assert "火星" in form.errors["region"][0] and "华东区" in form.errors["region"][0]
    assert "矿业" in form.errors["industries"][0]


def test_the_form_fields_offer_labels_in_the_readers_language(alpha):
    with translation.override("en"):
        html = str(_Form()["tier"])
    assert '<option value="tertiary_hospital">Tertiary hospital</option>' in html
    assert '<option value="" selected>' not in html  # a required field offers no blank


def test_ensure_adds_only_what_no_entry_spells_yet_and_audits_it(alpha):
    codes = vocabulary_ensure(actor="test", kind="region", values=["East China", "火星区", "火星区 "])
    assert codes == {"East China": "华东区", "火星区": "火星区", "火星区 ": "火星区"}
    assert VocabularyEntry.objects.filter(kind="region", code="火星区").count() == 1
    assert vocabulary_resolve("region", "火星区") == "火星区"
    assert AuditEntry.objects.filter(verb="vocabulary.values_added").exists()


def test_one_tenants_values_never_reach_another(alpha, beta):
    vocabulary_ensure(actor="test", kind="industry", values=["矿业"])
    assert vocabulary_resolve("industry", "矿业") == "矿业"
    with schema_context("beta"):
        assert vocabulary_resolve("industry", "矿业") is None
