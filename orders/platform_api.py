"""Read-only API for managers: the platform call log, sync states, and each channel's
account (never a secret: only where each one comes from)."""

from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from core.roles import PLATFORM_MANAGERS
from orders.platforms.models import SECRET_FIELDS, PlatformAccount, PlatformCall, SyncState


class PlatformCallSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = PlatformCall
        fields = [
            "id",
            "created_at",
            "platform",
            "channel",
            "purpose",
            "method",
            "http_status",
            "platform_code",
            "request_id",
            "duration_ms",
            "attempt",
            "outcome",
            "message",
        ]


class PlatformCallFilter(filters.FilterSet):
    channel = filters.CharFilter(field_name="channel__code")
    since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = PlatformCall
        fields = ["channel", "platform", "outcome", "method", "since"]


class PlatformCallViewSet(viewsets.ReadOnlyModelViewSet):
    """Every call Shanhuo made to a platform or waybill service, newest first."""

    queryset = PlatformCall.objects.select_related("channel").order_by("-created_at", "-id")
    serializer_class = PlatformCallSerializer
    filterset_class = PlatformCallFilter
    read_roles = PLATFORM_MANAGERS
    write_roles = PLATFORM_MANAGERS


class SyncStateSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SyncState
        fields = [
            "id",
            "channel",
            "stream",
            "cursor_time",
            "last_success_at",
            "last_error",
            "last_error_at",
            "next_attempt_at",
            "failures",
            "last_result",
        ]


class SyncStateViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SyncState.objects.select_related("channel").order_by("channel__code", "stream")
    serializer_class = SyncStateSerializer
    read_roles = PLATFORM_MANAGERS
    write_roles = PLATFORM_MANAGERS


class PlatformAccountSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    secrets = serializers.SerializerMethodField(
        help_text="Where each secret comes from: stored, environment, unreadable or missing."
    )

    class Meta:
        model = PlatformAccount
        fields = [
            "id",
            "channel",
            "platform",
            "app_key",
            "shop_id",
            "sign_method",
            "base_url",
            "is_enabled",
            "token_expires_at",
            "carrier_codes",
            "updated_at",
            "secrets",
        ]

    def get_secrets(self, account) -> dict[str, str]:
        return {name: account.secret_source(name) for name in SECRET_FIELDS}


class PlatformAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Channels' platform accounts. Secrets are entered on the Platforms page and never
    returned."""

    queryset = PlatformAccount.objects.select_related("channel").order_by("channel__code")
    serializer_class = PlatformAccountSerializer
    read_roles = PLATFORM_MANAGERS
    write_roles = PLATFORM_MANAGERS
