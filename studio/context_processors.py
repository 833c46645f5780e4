from studio.roles import user_roles


def roles(request):
    """``roles``: the set of role names the current user holds, for menus and home tiles."""
    return {"roles": user_roles(getattr(request, "user", None))}
