"""Name and phone search that works for Chinese: a full-text index over character bigrams.

pg_trgm cannot serve the searches reps type most: Chinese personal names are two or
three characters ("张伟"), and a two-character LIKE pattern yields no trigram, so the
trigram index is skipped and the table read. Splitting text into overlapping character
pairs (what Lucene's CJK analyzer and PostgreSQL's pg_bigm do) makes every fragment of
two or more characters an indexed phrase: "人民医院" → '人民' <-> '民医' <-> '医院', the
last four digits of a phone "5678" → '56' <-> '67' <-> '78'. A single character is a
prefix query, which is why a document also ends with its last character on its own.

The two SQL functions live in the public schema, created once by the first tenant
migration that needs them: every tenant's search_path (`<schema>, public`) finds them,
and the stored columns of cloned schemas refer to them by their qualified name.
Documents are STORED generated columns, so bulk inserts (seeding, imports) keep them right
and a phrase recheck reads the stored vector instead of recomputing it.

Scope is indexed with the text. Each searchable row also carries `search_owners`, the ids
of the people whose records make it visible (a customer: its owner and every holder of one
of its opportunities; a contact: its customer's; a lead: its owner, or EVERYONE while it is
in the public pool), and one GIN index covers (search_document, search_owners). "Matches
and is in scope" is then one index condition, `search_document @@ q AND search_owners &&
visible`, whose posting lists are intersected inside the index: a rep's single surname
character no longer reads the 9,000 matching rows of which 40 are theirs.
"""
from contextlib import contextmanager

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField

from django.db import connection, models
from django.db.models import Func, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

MAX_QUERY_CHARS = 100

# Only letters and digits count (in every script the database's ctype knows); lower-cased.
# PL/pgSQL, not SQL: a SQL function whose body has a FROM is not inlined, so every statement that
# calls it parses and plans that body again — three times per lead inserted (the stored
# `search_document`), 0.8 ms of the server's CPU per lead. PL/pgSQL keeps its plans for the
# session; same text out for every input (leads.migrations.0018_search_grams_plpgsql).
GRAMS_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION public.salesflow_grams(value text, whole boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  v text := lower(regexp_replace(value, '[^[:alnum:]]+', '', 'g'));
  grams text;
BEGIN
  IF length(v) < 2 THEN
    RETURN v;
  END IF;
  grams := substr(v, 1, 2);
  FOR i IN 2 .. length(v) - 1 LOOP
    grams := grams || ' ' || substr(v, i, 2);
  END LOOP;
  RETURN grams || CASE WHEN whole THEN ' ' || right(v, 1) ELSE '' END;
END
$fn$;
"""

FUNCTIONS_SQL = r"""
DO $body$
BEGIN
  IF to_regprocedure('public.salesflow_grams(text, boolean)') IS NULL THEN
""" + GRAMS_FUNCTION_SQL.replace("$fn$", "$grams$") + r"""
  END IF;
  IF to_regprocedure('public.salesflow_grams_query(text)') IS NULL THEN
    CREATE FUNCTION public.salesflow_grams_query(value text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
      SELECT CASE
        WHEN length(public.salesflow_grams(value, false)) = 1
          THEN to_tsquery('simple'::regconfig, quote_literal(public.salesflow_grams(value, false)) || ':*')
        ELSE phraseto_tsquery('simple'::regconfig, public.salesflow_grams(value, false))
      END
    $fn$;
  END IF;
END
$body$;
"""

# Databases made before: the SQL function replaced once (the same bigrams, see above).
GRAMS_TO_PLPGSQL_SQL = r"""
DO $body$
BEGIN
  IF (SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
       WHERE p.oid = to_regprocedure('public.salesflow_grams(text, boolean)')) = 'sql' THEN
""" + GRAMS_FUNCTION_SQL.replace("$fn$", "$grams$") + r"""
  END IF;
END
$body$;
"""


class SearchDocument(Func):
    """to_tsvector over the bigrams of each field, fields kept apart by a space."""

    function = "public.salesflow_grams"
    arg_joiner = ", true) || ' ' || public.salesflow_grams("
    template = "to_tsvector('simple'::regconfig, public.salesflow_grams(%(expressions)s, true))"
    output_field = SearchVectorField()

    def __init__(self, *fields):
        super().__init__(*[models.functions.Coalesce(models.F(f), models.Value("")) for f in fields])


def search_document_field(*fields) -> models.GeneratedField:
    return models.GeneratedField(expression=SearchDocument(*fields), output_field=SearchVectorField(), db_persist=True)


# The `search_owners` entry of rows everyone in the tenant may find (leads in the public pool).
EVERYONE = 0


def search_owners_field() -> ArrayField:
    """User ids whose records make the row visible; kept by database triggers (whatever the
    ORM writes is replaced on every insert and update), never edited."""
    return ArrayField(models.IntegerField(), default=list, editable=False, verbose_name=_("visible through"))


def normalise_query(text: str) -> str:
    """The query as typed, trimmed; empty when nothing searchable is left."""
    text = (text or "").strip()[:MAX_QUERY_CHARS]
    return text if any(ch.isalnum() for ch in text) else ""


@contextmanager
def custom_plans():
    """Plan search statements for the query at hand, never with a generic plan.

    Statements are prepared after a few runs (settings: prepare_threshold), and PostgreSQL
    may then switch to a generic plan, in which `public.salesflow_grams_query($1)` is not
    folded into a constant: a sequential scan then calls it once per row (a 3,000-row table
    took 300 ms instead of 1). Inside this block statements are not prepared: each is sent
    as the unnamed statement, which PostgreSQL plans with its parameter values, so the
    bigram index is used. This is a client-side switch of the driver, so it costs no round
    trip (a `SET LOCAL plan_cache_mode` needed a transaction: three more per search).
    """
    connection.ensure_connection()
    driver = connection.connection
    previous = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = previous


def search_filter(queryset: QuerySet, text: str, *, column: str = "search_document") -> QuerySet:
    """Rows whose document holds `text` as a contiguous fragment (case-insensitive)."""
    table = queryset.model._meta.db_table
    return queryset.filter(
        RawSQL(f'"{table}"."{column}" @@ public.salesflow_grams_query(%s)', (text,), output_field=models.BooleanField())
    )
