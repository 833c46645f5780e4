"""Which packing station a laptop stands at. Remembered by the browser (a signed cookie), not
by the login: on a shared laptop every packer who logs in prints to the desk's printer, and a
packer who moves to another desk prints where they now stand. A studio with a single active
station needs no choice at all."""

from django.http import HttpRequest, HttpResponse

from shipping.models import PackingStation

__all__ = ["STATION_COOKIE", "remember_station", "station_for"]

STATION_COOKIE = "shanhuo_station"
STATION_SALT = "shipping.station"
ONE_YEAR = 365 * 24 * 3600


def _active():
    return PackingStation.objects.filter(is_active=True).select_related("printer", "carrier")


def station_for(request: HttpRequest) -> PackingStation | None:
    """The station this browser chose, if it is still active; else the only active one."""
    chosen = request.get_signed_cookie(STATION_COOKIE, default=None, salt=STATION_SALT)
    if chosen is not None and str(chosen).isdigit():
        station = _active().filter(pk=int(chosen)).first()
        if station is not None:
            return station
    only = list(_active()[:2])
    return only[0] if len(only) == 1 else None


def remember_station(response: HttpResponse, station: PackingStation | None) -> HttpResponse:
    if station is None:
        response.delete_cookie(STATION_COOKIE)
    else:
        response.set_signed_cookie(
            STATION_COOKIE,
            str(station.pk),
            salt=STATION_SALT,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="Lax",
        )
    return response
