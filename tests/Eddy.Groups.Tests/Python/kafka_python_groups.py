"""kafka-python (Debian's python3-kafka) against Eddy's group APIs: a consumer commits and reads back offsets
without subscribing, and the admin client lists and describes the group and reads its offsets.
Usage: kafka_python_groups.py BOOTSTRAP GROUP. Prints "ok" and exits 0 when every check holds."""
import sys

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

bootstrap, group = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         api_version_auto_timeout_ms=10000, request_timeout_ms=15000)
admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="eddy-groups-tests", request_timeout_ms=10000)
try:
    tp0, tp1 = TopicPartition("py-topic", 0), TopicPartition("py-topic", 1)
    consumer.commit({tp0: OffsetAndMetadata(77, "py-meta"), tp1: OffsetAndMetadata(78, "")})
    assert consumer.committed(tp0) == 77, consumer.committed(tp0)
    assert consumer.committed(TopicPartition("py-topic", 2)) is None

    listed = admin.list_consumer_groups()
    assert (group, "") in listed, listed
    described = admin.describe_consumer_groups([group])
    assert len(described) == 1 and described[0].group == group and described[0].state == "Empty", described
    offsets = admin.list_consumer_group_offsets(group)
    assert offsets == {tp0: OffsetAndMetadata(77, "py-meta"), tp1: OffsetAndMetadata(78, "")}, offsets
finally:
    consumer.close()
    admin.close()
print("ok")
