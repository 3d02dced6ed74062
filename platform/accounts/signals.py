from django.dispatch import Signal

# Sent inside the transaction that creates a workspace that asked for starter content;
# apps connect to it to add their examples (templates, styles, a dataset). args: workspace
workspace_created = Signal()
