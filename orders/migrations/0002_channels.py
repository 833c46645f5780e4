from django.db import migrations

CHANNELS = [("kuaishou", "快手"), ("douyin", "抖音"), ("wechat", "微信/电话"), ("other", "其他")]


def create_channels(apps, schema_editor):
    Channel = apps.get_model("orders", "Channel")
    for code, name in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_channels, migrations.RunPython.noop)]
