from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from accounts.models import Membership
from accounts.selectors import memberships_of, workspace_members


class WorkspaceMembershipOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(source="workspace.id")
    name = serializers.CharField(source="workspace.name")
    slug = serializers.CharField(source="workspace.slug")

    class Meta:
        model = Membership
        fields = ["id", "name", "slug", "role"]


class MemberOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]


class WorkspaceListApi(generics.ListAPIView):
    """The workspaces the caller belongs to, with their role in each."""

    serializer_class = WorkspaceMembershipOutput
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return memberships_of(self.request.user)


class WorkspaceDetailApi(generics.RetrieveAPIView):
    """One of the caller's workspaces; another workspace answers 404."""

    serializer_class = WorkspaceMembershipOutput
    permission_classes = [IsAuthenticated]
    lookup_field = "workspace_id"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        return memberships_of(self.request.user)


class MemberListApi(generics.ListAPIView):
    """Members of the current workspace (admins only)."""

    serializer_class = MemberOutput
    required_action = "members.view"

    def get_queryset(self):
        return workspace_members(self.request.membership.workspace)
