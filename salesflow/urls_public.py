from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import set_language

from salesflow import views as shell_views
from salesflow.signin import SignInView

from salesflow.tenancy import views

urlpatterns = [
    path("", views.operator_home, name="home"),
    path("tenants/new/", views.tenant_new, name="tenant-new"),
    path("favicon.ico", shell_views.favicon),
    path("accounts/login/", SignInView.as_view(template_name="tenancy/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
]
