"""The intake API (SPEC §8): POST /api/v1/leads and its OpenAPI description."""
from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from salesflow.middleware import machine_api
from salesflow.inputs import BodyRefused, canonical_hash, json_body, text_problem
from salesflow.org.models import VocabularyKind
from salesflow.org.selectors import tenant_settings_get
from salesflow.org.vocabularies import vocabulary_codes

from .models import Channel, IntakeKey
from salesflow.ratelimit import rate_limit_hit
from .services import (IdempotencyMismatch, IntakeKeyRevoked, IntakeResult, intake_key_authenticate, lead_intake,
                       lead_payload_validate)
from .services.validation import FIELDS

MAX_BODY_BYTES = 64 * 1024


def _errors(status: int, errors: dict, **headers) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def lead_representation(result: IntakeResult) -> dict:
    lead = result.lead
    body = {
        "id": lead.pk,
        "status": lead.status,
        "owner": result.owner_username,
        "routing": {"rule": lead.routing_rule.name if lead.routing_rule_id else None, "reason": lead.routing_reason_text},
    }
    if not result.created:
        body["duplicate"] = True
    return body


def _api_language(request) -> str:
    """The language Accept-Language asks for when we speak it, else the tenant's default language.

    Integrations rarely send Accept-Language. The people who write and watch them for a Chinese
    tenant (its IT staff, the ad platform's or call centre's integrator) read Chinese, and the
    tenant's default language is the one it chose for everyone who has not said otherwise.
    """
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return tenant_settings_get().default_language


def _key_from(request) -> IntakeKey | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return intake_key_authenticate(secret.strip())


@machine_api
@csrf_exempt
def leads_intake(request):
    # Every answer in one language (see _api_language), named in Content-Language.
    language = _api_language(request)
    with translation.override(language):
        response = _leads_intake(request)
    response["Content-Language"] = language
    return response


def _key_refused() -> JsonResponse:
    return _errors(401, {"authorization": [_("Missing, unknown or revoked intake key.")]}, WWW_Authenticate='Bearer realm="intake"')


def _leads_intake(request):
    if request.method != "POST":
        response = _errors(405, {"method": [_("Use POST.")]})
        response["Allow"] = "POST"
        return response
    key = _key_from(request)
    if key is None:
        return _key_refused()
    retry_after = rate_limit_hit(bucket=f"key:{key.prefix}", limit=tenant_settings_get().intake_rate_limit)
    if retry_after is not None:
        return _errors(429, {"rate_limit": [_("Too many requests for this key; slow down.")]}, Retry_After=str(retry_after))
    try:
        data = json_body(request, max_bytes=MAX_BODY_BYTES)
    except BodyRefused as refused:
        return _errors(refused.status, refused.errors)
    clean, errors = lead_payload_validate(data)
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if len(idempotency_key) > 200:
        errors["Idempotency-Key"] = [_("At most %(n)s characters.") % {"n": 200}]
    elif text_problem(idempotency_key):
        errors["Idempotency-Key"] = [text_problem(idempotency_key)]
    if errors:
        return _errors(400, errors)
    clean["channel"] = clean["channel"] or Channel.API
    try:
        result = lead_intake(
            clean=clean, actor=f"intake key {key.prefix}", via="api", intake_key=key,
            # The body's hash is kept only beside an Idempotency-Key (to tell a replay from a reuse).
            idempotency_key=idempotency_key, request_hash=canonical_hash(data) if idempotency_key else "",
        )
    except IdempotencyMismatch:
        return _errors(422, {"Idempotency-Key": [_("This key was used before with a different body.")]})
    except IntakeKeyRevoked:
        return _key_refused()
    return JsonResponse(lead_representation(result), status=201 if result.created else 200,
                        json_dumps_params={"ensure_ascii": False})


def _property(name, spec) -> dict:
    if spec.integer:
        return {"type": ["integer", "null"], "minimum": spec.integer[0], "maximum": spec.integer[1]}
    prop = {"type": ["string", "null"]}
    if spec.choices:
        prop["enum"] = [*spec.choices, "", None]
    if spec.vocabulary:
        # The tenant's list as it stands: its codes; a label or synonym of a value is accepted too
        # and stored as the code, anything else answers 400 naming these codes.
        with translation.override("en"):
            kind = str(VocabularyKind(spec.vocabulary).label)
        prop["enum"] = [*vocabulary_codes(spec.vocabulary), "", None]
        prop["description"] = (f"A value of the tenant's {kind.lower()} list: its code (listed), or its Chinese or "
                               "English label or a synonym, matched ignoring case, width and surrounding spaces; "
                               "stored as the code.")
        if name == "channel":
            prop["description"] += " Omitted or blank: api."
        return prop
    if spec.max_length:
        prop["maxLength"] = spec.max_length
    if name == "contact_name":
        prop = {"type": "string", "minLength": 1, "maxLength": spec.max_length, "pattern": r"\S"}
    return prop


def openapi_document() -> dict:
    error = {"type": "object", "required": ["errors"], "properties": {"errors": {
        "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}
    lead_out = {
        "type": "object", "required": ["id", "status", "owner", "routing"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["assigned", "accepted", "contacted", "pool", "converted", "lost", "merged"]},
            "owner": {"type": ["string", "null"], "description": "Username of the rep who owns the lead."},
            "routing": {"type": "object", "required": ["rule", "reason"], "properties": {
                "rule": {"type": ["string", "null"]}, "reason": {"type": "string"}}},
            "duplicate": {"type": "boolean"},
        },
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "SalesFlow lead intake", "version": "1.0.0",
                 "description": "Submit leads from ad platforms, 400-phone systems or WeCom. Duplicates (same phone or "
                                "e-mail, normalised; or a known external_id) answer 200 with the existing lead. "
                                "Error texts and the routing reason are written in the language Accept-Language asks "
                                "for (zh-hans or en), else in the tenant's default language; Content-Language names "
                                "the one used. Field names, codes and statuses are the same in every language."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"intakeKey": {"type": "http", "scheme": "bearer", "description": "The tenant's intake key."}},
            "schemas": {
                "LeadIn": {
                    "type": "object", "additionalProperties": False, "required": ["contact_name"],
                    # A phone or an e-mail that is not blank (whitespace alone counts as blank).
                    "anyOf": [{"required": [field], "properties": {field: {"type": "string", "pattern": r"\S"}}}
                              for field in ("phone", "email")],
                    "properties": {name: _property(name, spec) for name, spec in FIELDS.items()},
                },
                "LeadOut": lead_out, "Errors": error,
            },
        },
        "security": [{"intakeKey": []}],
        "paths": {"/api/v1/leads": {"post": {
            "operationId": "createLead",
            "summary": "Submit a lead; it is scored and routed at once.",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "maxLength": 200}},
                           {"name": "Accept-Language", "in": "header", "required": False,
                            "description": "zh-hans or en (zh, zh-CN and en-US are understood); without it, or when "
                                           "it names neither, the tenant's default language.",
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LeadIn"}}}},
            "responses": {
                "201": {"description": "Created and routed.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LeadOut"}}}},
                "200": {"description": "Duplicate or replay: the existing lead.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LeadOut"}}}},
                "400": {"description": "Invalid: every bad field named.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                "401": {"description": "Missing, unknown or revoked key.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                "413": {"description": f"Body over {MAX_BODY_BYTES} bytes.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                "415": {"description": "The body is not application/json.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                "422": {"description": "Idempotency-Key reused with another body.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
                "429": {"description": "Over the per-key rate limit.", "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}}},
            },
        }}},
    }
    language = {"description": "The language of the error texts and the routing reason: zh-hans or en.",
                "schema": {"type": "string", "enum": [code for code, _name in settings.LANGUAGES]}}
    for response in document["paths"]["/api/v1/leads"]["post"]["responses"].values():
        response.setdefault("headers", {})["Content-Language"] = language
    return document


@require_GET
def openapi_json(request):
    from forecasting.api import openapi_prepayments

    return JsonResponse(openapi_prepayments(openapi_document()), json_dumps_params={"ensure_ascii": False})
