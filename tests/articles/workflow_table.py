"""The editorial workflow as the issue states it, written out independently of articles.workflow
so that the service and API tests check the code against it (not against itself)."""

STATES = ["draft", "in_review", "changes_requested", "approved", "published", "rejected", "archived", "unpublished"]
# action: (the states it leaves from, the state it leads to)
WORKFLOW = {
    "submit": ({"draft", "changes_requested"}, "in_review"),
    "request_changes": ({"in_review"}, "changes_requested"),
    "reject": ({"in_review"}, "rejected"),
    "approve": ({"in_review"}, "approved"),
    "publish": ({"approved", "unpublished"}, "published"),
    "unpublish": ({"published"}, "unpublished"),
    "archive": ({"draft", "changes_requested", "rejected", "approved", "unpublished"}, "archived"),
    "reopen": ({"archived", "rejected"}, "draft"),
}
