"""How API callers are recognised (DRF's ``DEFAULT_AUTHENTICATION_CLASSES``). Apart from
``core.auth`` (sign-in protection, which imports DRF's views): DRF imports this module while
it loads its views."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.db import quoted, select
from core.roles import remember_roles


@functools.cache
def _user_by_token_sql(token_model) -> str:
    """The user of a token with the token's creation time and one row per group the user is
    in (one row with no group for a user in none): plain joins, the same SQL on every
    database. Written once: the query builder would cost a station's every scan more than
    the query itself."""
    user_model = get_user_model()
    groups = user_model._meta.get_field("groups")
    through = groups.remote_field.through
    read = select(user_model)
    user_id = read.column("", user_model._meta.pk.name)
    return read.sql(
        f"t.{quoted(token_model, 'key')} = %s",
        extra=f"t.{quoted(token_model, 'created')} AS token_created, "
        f"g.{quoted(Group, 'name')} AS group_name",
        joins=f"JOIN {quoted(token_model)} t ON t.{quoted(token_model, 'user')} = {user_id} "
        f"LEFT JOIN {quoted(through)} ug "
        f"ON ug.{quoted(through, groups.m2m_field_name())} = {user_id} "
        f"LEFT JOIN {quoted(Group)} g "
        f"ON g.{quoted(Group, 'id')} = ug.{quoted(through, groups.m2m_reverse_field_name())}",
    )


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token …``, with the user's roles read in the same statement as
    the token and the user (a packing station sends a token with every scan): the role checks
    of the request (``core.roles.user_roles``) then read nothing more."""

    def authenticate_credentials(self, key):
        token_model = self.get_model()
        rows = select(get_user_model()).fetch(
            _user_by_token_sql(token_model), [key], extra=("token_created", "group_name")
        )
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = rows[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, [row.group_name for row in rows if row.group_name])
        return user, token_model(key=key, user=user, created=user.token_created)
