"""The finance webhook (SPEC §8): POST /api/v1/finance/prepayments, and its OpenAPI part."""
from django.http import JsonResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from audit.services import audit_record_atomic
from followups.models import Opportunity
from salesflow.inputs import BodyRefused, json_parse

from .models import PrepaymentVia
from .services.finance_secret import finance_secret_get
from .services.prepayment import prepayment_payload_validate, prepayment_record, signature_check

MAX_BODY_BYTES = 16 * 1024
SIGNATURE_HEADER = "X-SalesFlow-Signature"
ACTOR = "finance webhook"


def _errors(status: int, errors: dict) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
def finance_prepayments(request):
    from leads.api import _api_language

    with translation.override(_api_language(request)):
        return _finance_prepayments(request)


def _refused(status: int, errors: dict, data) -> JsonResponse:
    """A signed request that changes nothing: said why, and kept in the log (the sender is the finance system)."""
    audit_record_atomic(actor=ACTOR, verb="prepayment.refused", target_type="forecasting.prepayment",
                        payload={"status": status, "errors": errors, "body": data if isinstance(data, dict) else None})
    return _errors(status, errors)


def _finance_prepayments(request):
    if request.method != "POST":
        response = _errors(405, {"method": ["Use POST."]})
        response["Allow"] = "POST"
        return response
    if (request.content_type or "").lower() != "application/json":
        return _errors(415, {"Content-Type": [translation.gettext("Send the body as application/json.")]})
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return _errors(413, {"body": [translation.gettext("The body may be at most %(n)s bytes.") % {"n": MAX_BODY_BYTES}]})
    raw = request.body
    problem = signature_check(header=request.headers.get(SIGNATURE_HEADER, ""), raw_body=raw, secret=finance_secret_get())
    if problem:
        return _errors(401, {SIGNATURE_HEADER: [problem]})
    try:
        data = json_parse(raw)
    except BodyRefused as refused:
        return _refused(refused.status, refused.errors, None)
    clean, errors = prepayment_payload_validate(data)
    if errors:
        return _refused(400, errors, data)
    try:
        result = prepayment_record(actor=ACTOR, opportunity_id=clean["opportunity"], amount=clean["amount"],
                                   currency=clean["currency"], received_at=clean["received_at"],
                                   reference=clean["reference"], via=PrepaymentVia.WEBHOOK)
    except Opportunity.DoesNotExist:
        return _refused(404, {"opportunity": [translation.gettext("No opportunity with this id.")]}, data)
    body = {"id": result.prepayment.pk, "opportunity": result.prepayment.opportunity_id, "credit": result.credit}
    if not result.created:
        body["duplicate"] = True
    return JsonResponse(body, status=201 if result.created else 200)


def openapi_prepayments(document: dict) -> dict:
    """Add the finance webhook to the tenant's OpenAPI document (leads.api builds the rest)."""
    errors = {"$ref": "#/components/schemas/Errors"}

    def answer(description, schema=errors):
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    components = document["components"]
    components["schemas"]["PrepaymentIn"] = {
        "type": "object", "additionalProperties": False,
        "required": ["opportunity", "amount", "currency", "received_at", "reference"],
        "properties": {
            "opportunity": {"type": "integer", "minimum": 1, "description": "The opportunity's id in SalesFlow."},
            "amount": {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "description": "Decimal string, > 0."},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code, e.g. CNY."},
            "received_at": {"type": "string", "format": "date-time", "description": "ISO-8601 with a UTC offset."},
            "reference": {"type": "string", "minLength": 1, "maxLength": 100,
                          "description": "The finance system's reference; the same reference is recorded once."},
        },
    }
    components["schemas"]["PrepaymentOut"] = {
        "type": "object", "required": ["id", "opportunity", "credit"],
        "properties": {"id": {"type": "integer"}, "opportunity": {"type": "integer"},
                       "credit": {"type": "integer", "description": "The opportunity's credit score now."},
                       "duplicate": {"type": "boolean"}},
    }
    components["securitySchemes"]["financeSignature"] = {
        "type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
        "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the tenant\'s finance secret>; '
                       "more than 300 s away from the server's clock is refused.",
    }
    document["paths"]["/api/v1/finance/prepayments"] = {"post": {
        "operationId": "recordPrepayment",
        "summary": "Record a prepayment received by the finance system: +8 credit once, unlocks delivery scheduling.",
        "security": [{"financeSignature": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PrepaymentIn"}}}},
        "responses": {
            "201": answer("Recorded.", {"$ref": "#/components/schemas/PrepaymentOut"}),
            "200": answer("The same reference again: the recorded prepayment.", {"$ref": "#/components/schemas/PrepaymentOut"}),
            "400": answer("Invalid: every bad field named."),
            "401": answer("Missing, stale or wrong signature."),
            "404": answer("No opportunity with this id."),
            "413": answer(f"Body over {MAX_BODY_BYTES} bytes."),
            "415": answer("The body is not application/json."),
        },
    }}
    return document
