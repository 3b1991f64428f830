"""The header's global search: a full page, or the drop-down partial htmx asks for while typing."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from .search import global_search
from .views import _member_or_404


@login_required
@vary_on_headers("HX-Request")
def search(request):
    _member_or_404(request.user)
    results = global_search(user=request.user, text=request.GET.get("q", ""))
    template = "followups/_search_results.html" if request.htmx else "followups/search.html"
    return render(request, template, {"results": results, "q": request.GET.get("q", "")[:100]})
