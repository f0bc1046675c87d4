"""Produces N messages with python3-confluent-kafka (Debian's librdkafka) and consumes them back.

Usage: confluent_roundtrip.py BOOTSTRAP TOPIC COUNT. Exits 0 and prints 'ok COUNT' when every message came back
once, in order per partition, with its key and value.
"""
import sys
from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
errors = []
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
for i in range(count):
    producer.produce(topic, key=str(i % 17).encode(), value=("value-%d" % i).encode(),
                     on_delivery=lambda err, msg: errors.append(err) if err else None)
    if i % 1000 == 0:
        producer.poll(0)
left = producer.flush(30)
if left or errors:
    sys.exit("produce failed: %d left, errors %s" % (left, errors[:3]))

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "py-confluent-unused", "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "enable.partition.eof": True})
metadata = consumer.list_topics(topic, timeout=10)
partitions = list(metadata.topics[topic].partitions)
consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
seen, eof = [], set()
while len(eof) < len(partitions):
    msg = consumer.poll(10)
    if msg is None:
        sys.exit("consume timed out after %d messages" % len(seen))
    if msg.error():
        if msg.error().code() == -191:  # _PARTITION_EOF
            eof.add(msg.partition())
            continue
        sys.exit("consume error: %s" % msg.error())
    seen.append((msg.partition(), msg.offset(), msg.key().decode(), msg.value().decode()))
consumer.close()
values = sorted(int(v.split("-")[1]) for _, _, _, v in seen)
if values != list(range(count)):
    sys.exit("expected values 0..%d once each, got %d values" % (count - 1, len(values)))
for p in partitions:
    offsets = [o for q, o, _, _ in seen if q == p]
    if offsets != list(range(len(offsets))):
        sys.exit("partition %d offsets are not dense from 0" % p)
for _, _, k, v in seen:
    if int(k) != int(v.split("-")[1]) % 17:
        sys.exit("key %s does not belong to %s" % (k, v))
print("ok %d" % len(seen))
