import pytest
from django.http import Http404

from accounts.models import Role
from accounts.permissions import WorkspacePermissionDenied, check, check_object, role_allows


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.WRITER, "workspace.view", True),
        (Role.WRITER, "members.view", False),
        (Role.EDITOR, "members.view", False),
        (Role.ADMIN, "members.view", True),
        (Role.ADMIN, "members.manage", True),
        (None, "workspace.view", False),
    ],
)
def test_role_table(role, action, allowed):
    assert role_allows(role, action) is allowed


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        role_allows(Role.ADMIN, "nonsense.do")


def test_outsider_gets_not_found_member_gets_forbidden(make_member, workspace):
    writer = make_member("writer", workspace)
    with pytest.raises(Http404):
        check(None, "workspace.view")
    with pytest.raises(WorkspacePermissionDenied):
        check(writer.memberships.get(), "members.view")


def test_object_of_another_workspace_is_not_found(make_member, workspace, other_workspace):
    admin = make_member("admin", workspace)
    with pytest.raises(Http404):
        check_object(admin.memberships.get(), other_workspace.memberships.model(workspace=other_workspace), "members.view")
