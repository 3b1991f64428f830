from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from forecasting import api as finance_api
from salesflow import views
from salesflow.signin import SignInView, ThrottledAdminAuthenticationForm

admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("team/", views.team, name="team"),
    path("favicon.ico", views.favicon),
    path("me/availability/", views.my_availability, name="my-availability"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("admin/", admin.site.urls),
    path("followups/", include("followups.urls")),
    path("forecast/", include("forecasting.urls_forecast")),
    path("targets/", include("forecasting.urls_targets")),
    path("notifications/", include("salesflow.notifications.urls")),
    path("evidence/", include("forecasting.urls_evidence")),
    path("api/v1/finance/prepayments", finance_api.finance_prepayments, name="api-finance-prepayments"),
    path("health/", include("audit.health.urls")),
    path("audit/attribution/", include("audit.attribution.urls")),
    path("", include("audit.urls")),
    path("", include("leads.urls")),
]
