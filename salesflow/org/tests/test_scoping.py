from salesflow.org.scoping import scope_by_owner, visible_user_ids
from salesflow.org.selectors import member_list
from salesflow.org.tests.factories import MemberFactory, TeamFactory, UserFactory


def test_a_rep_sees_only_themself(alpha):
    assert visible_user_ids(alpha.rep) == {alpha.rep.pk}


def test_a_manager_sees_their_team_but_not_another(alpha):
    visible = visible_user_ids(alpha.manager)
    assert {alpha.manager.pk, alpha.rep.pk} <= visible
    assert alpha.other_rep.pk not in visible
    assert alpha.other_manager.pk not in visible


def test_a_director_sees_teams_in_sub_regions_transitively(alpha):
    visible = visible_user_ids(alpha.director)
    assert {alpha.manager.pk, alpha.rep.pk, alpha.director.pk} <= visible
    assert alpha.other_rep.pk not in visible


def test_an_admin_sees_the_whole_tenant(alpha):
    assert visible_user_ids(alpha.admin) is None


def test_a_user_without_a_member_profile_sees_nothing(alpha):
    assert visible_user_ids(UserFactory(username="stray")) == set()


def test_scope_by_owner_filters_any_queryset(alpha):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    assert set(scope_by_owner(users, alpha.rep, owner_field="pk").values_list("pk", flat=True)) == {alpha.rep.pk}
    assert scope_by_owner(users, alpha.admin, owner_field="pk").count() == users.count()


def test_member_list_follows_the_scope_and_marks_new_hires(alpha, django_assert_max_num_queries):
    import datetime as dt

    newcomer = MemberFactory(team=TeamFactory(name="A组"), hire_date=dt.date.today() - dt.timedelta(days=10))
    with django_assert_max_num_queries(6):
        members = list(member_list(user=alpha.manager))
    names = {m.user.username for m in members}
    assert {"manager", "rep", newcomer.user.username} <= names and "rep_b" not in names
    assert next(m for m in members if m.pk == newcomer.pk).is_new_hire
    assert not next(m for m in members if m.user.username == "rep").is_new_hire
