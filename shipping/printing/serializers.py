"""Serializers of the printers and print jobs API."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inventory.serializers import CleanModelSerializer
from shipping.models import Printer, PrintJob, Wave

MAX_JOB_PARCELS = 1000  # parcels named in one request; a wave may be larger (``wave``)


class PrinterSerializer(CleanModelSerializer):
    address = serializers.CharField(read_only=True)

    class Meta:
        model = Printer
        fields = [
            "id",
            "name",
            "host",
            "port",
            "cups_queue",
            "address",
            "language",
            "dpi",
            "label_size",
            "zpl_graphics",
            "is_active",
        ]

    def validate(self, attrs):
        host = attrs.get("host", getattr(self.instance, "host", ""))
        queue = attrs.get("cups_queue", getattr(self.instance, "cups_queue", ""))
        if bool(host.strip()) == bool(queue.strip()):
            raise serializers.ValidationError(
                {"host": [_("Give the printer either a network address or a CUPS queue.")]}
            )
        return super().validate(attrs)


def _active_printer_field() -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=Printer.objects.filter(is_active=True),
        error_messages={"does_not_exist": _("No active printer has the id {pk_value}.")},
    )


class PrintJobSerializer(serializers.ModelSerializer):
    printer_name = serializers.CharField(source="printer.name", read_only=True)
    wave = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = PrintJob
        fields = [
            "id",
            "printer",
            "printer_name",
            "wave",
            "label_count",
            "labels_sent",
            "state",
            "error",
            "attempts",
            "created_by",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class PrintJobCreateSerializer(serializers.Serializer):
    printer = _active_printer_field()
    parcels = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=MAX_JOB_PARCELS,
        help_text=_("Parcel ids; their labels print in this order."),
    )
    wave = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Wave.objects.all(),
        required=False,
        help_text=_("Instead of parcels: every parcel of the wave, in wave order."),
        error_messages={"does_not_exist": _("No wave has the code “{value}”.")},
    )
    unprinted = serializers.BooleanField(
        default=False, help_text=_("With wave: only labels not printed yet.")
    )

    def validate(self, attrs):
        if bool(attrs.get("parcels")) == bool(attrs.get("wave")):
            raise serializers.ValidationError(
                {"parcels": [_("Name the parcels or a wave (one of the two).")]}
            )
        return attrs


class PrintJobAgainSerializer(serializers.Serializer):
    printer = serializers.PrimaryKeyRelatedField(
        queryset=Printer.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=_("Send a failed job to this printer instead."),
    )
