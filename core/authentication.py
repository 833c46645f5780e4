"""How API callers are recognised (DRF's ``DEFAULT_AUTHENTICATION_CLASSES``). Apart from
``core.auth`` (sign-in protection, which imports DRF's views): DRF imports this module while
it loads its views."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.roles import remember_roles


@functools.cache
def _user_by_token_sql(token_model) -> str:
    """The user of a token with the token's creation time and one row per group the user is
    in (one row with no group for a user in none): plain joins, the same SQL on every
    database. Written once: the query builder would cost a station's every scan more than
    the query itself."""
    quote = connection.ops.quote_name
    user, token, group = get_user_model()._meta, token_model._meta, Group._meta
    groups = user.get_field("groups")
    through = groups.remote_field.through._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    user_id = quote(user.pk.column)
    return (
        f"SELECT u.*, t.{column(token, 'created')} AS token_created, "
        f"g.{column(group, 'name')} AS group_name "
        f"FROM {quote(token.db_table)} t "
        f"JOIN {quote(user.db_table)} u ON u.{user_id} = t.{column(token, 'user')} "
        f"LEFT JOIN {quote(through.db_table)} ug "
        f"ON ug.{quote(groups.m2m_column_name())} = u.{user_id} "
        f"LEFT JOIN {quote(group.db_table)} g "
        f"ON g.{quote(group.pk.column)} = ug.{quote(groups.m2m_reverse_name())} "
        f"WHERE t.{column(token, 'key')} = %s"
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
