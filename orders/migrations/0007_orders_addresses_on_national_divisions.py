"""Read every stored order's address onto the national divisions, as new orders are: canonical
province, city and district names (浙江 and 浙江省 become one), the area code, and whether a
person should review it. Orders sharing a province, city and district are settled by one
UPDATE; only those whose region alone does not say it all are read one by one."""

from django.db import migrations

from core.regions import AddressMatch, normalise

BATCH = 2000


def read_addresses(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    regions = list(
        Order.objects.order_by().values_list("province", "city", "district").distinct()
    )
    one_by_one = []
    for province, city, district in regions:
        place = normalise(province=province, city=city, district=district)
        same = Order.objects.filter(province=province, city=city, district=district)
        if place.status == AddressMatch.MATCHED and not place.detail:
            same.update(
                province=place.province,
                city=place.city,
                district=place.district,
                adcode=place.adcode,
                address_status=place.status,
            )
        else:
            one_by_one.append(same)
    fields = ["province", "city", "district", "address_detail", "adcode", "address_status"]
    for orders in one_by_one:
        changed = []
        for order in orders.only("id", *fields).iterator(chunk_size=BATCH):
            place = normalise(
                province=order.province,
                city=order.city,
                district=order.district,
                detail=order.address_detail,
            )
            order.province, order.city, order.district = place.province, place.city, place.district
            order.address_detail = place.detail[:300] or order.address_detail
            order.adcode, order.address_status = place.adcode, place.status
            changed.append(order)
            if len(changed) >= BATCH:
                Order.objects.bulk_update(changed, fields)
                changed = []
        Order.objects.bulk_update(changed, fields)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_order_adcode_and_address_check"),
    ]

    operations = [
        migrations.RunPython(read_addresses, migrations.RunPython.noop, elidable=True),
    ]
