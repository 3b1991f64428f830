from django import template

from ..messages import candidate_line, import_error_text, score_parts, verdict_label

register = template.Library()

register.filter("verdict_label", verdict_label)
register.filter("candidate_line", candidate_line)
register.filter("score_parts", score_parts)
register.filter("import_error_text", import_error_text)
