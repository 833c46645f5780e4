"""How API callers are recognised (DRF's ``DEFAULT_AUTHENTICATION_CLASSES``). Apart from
``core.auth`` (sign-in protection, which imports DRF's views): DRF imports this module while
it loads its views."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.db import columns, quoted
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
    user_id = quoted(user_model, user_model._meta.pk.name)
    return (
        f"SELECT {columns(user_model, 'u')}, t.{quoted(token_model, 'created')} AS token_created, "
        f"g.{quoted(Group, 'name')} AS group_name "
        f"FROM {quoted(token_model)} t "
        f"JOIN {quoted(user_model)} u ON u.{user_id} = t.{quoted(token_model, 'user')} "
        f"LEFT JOIN {quoted(through)} ug "
        f"ON ug.{quoted(through, groups.m2m_field_name())} = u.{user_id} "
        f"LEFT JOIN {quoted(Group)} g "
        f"ON g.{quoted(Group, 'id')} = ug.{quoted(through, groups.m2m_reverse_field_name())} "
        f"WHERE t.{quoted(token_model, 'key')} = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token …``, with the user's roles read in the same statement as
    the token and the user (a packing station sends a token with every scan): the role checks
    of the request (``core.roles.user_roles``) then read nothing more."""

    def authenticate_credentials(self, key):
        token_model = self.get_model()
        rows = list(get_user_model().objects.raw(_user_by_token_sql(token_model), [key]))
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = rows[0]
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        remember_roles(user, [row.group_name for row in rows if row.group_name])
        return user, token_model(key=key, user=user, created=user.token_created)
