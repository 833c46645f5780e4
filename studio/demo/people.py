"""The demo's users: one per role, password ``shanhuo123``."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from studio.demo.data import (
    DEMO_PASSWORD,
    USERS,
)


def ensure_users() -> dict[str, object]:
    """One demo user per role, password ``shanhuo123``; repaired if it was changed."""
    User = get_user_model()
    users = {}
    for username, role, first_name, is_staff in USERS:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "is_staff": is_staff}
        )
        changed = []
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed.append("password")
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if is_staff and not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if changed:
            user.save(update_fields=changed)
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users
