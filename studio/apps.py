from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# What the manager role may do in the admin: edit master data, read lots and the ledger.
MANAGER_ADMIN_PERMISSIONS = {
    "inventory": {
        "farmer": ["view", "add", "change"],
        "product": ["view", "add", "change"],
        "grade": ["view", "add", "change"],
        "sku": ["view", "add", "change"],
        "location": ["view", "add", "change"],
        "lot": ["view"],
        "delivery": ["view"],
        "stockmovement": ["view"],
    },
}


def grant_manager_permissions(sender, using="default", **kwargs):
    """Give the manager group its admin permissions. Permissions exist only after
    migrate has created them, so this runs on post_migrate rather than in a migration."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name="manager").first()
    if group is None:
        return
    codenames = [
        (app, f"{action}_{model}")
        for app, models in MANAGER_ADMIN_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    ]
    for app, codename in codenames:
        permission = (
            Permission.objects.using(using)
            .filter(content_type__app_label=app, codename=codename)
            .first()
        )
        if permission is not None:
            group.permissions.add(permission)


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = _("Studio")

    def ready(self):
        post_migrate.connect(grant_manager_permissions, dispatch_uid="studio.manager_permissions")
