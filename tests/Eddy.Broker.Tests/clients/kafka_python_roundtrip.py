"""Produces N messages with python3-kafka (kafka-python, its own protocol code) and consumes them back.

Usage: kafka_python_roundtrip.py BOOTSTRAP TOPIC COUNT. Exits 0 and prints 'ok COUNT' when every message came back
once, in order per partition.
"""
import sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
futures = [producer.send(topic, key=str(i % 17).encode(), value=("value-%d" % i).encode()) for i in range(count)]
producer.flush(30)
for f in futures:
    f.get(timeout=30)
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                         consumer_timeout_ms=10000)
partitions = sorted(consumer.partitions_for_topic(topic))
tps = [TopicPartition(topic, p) for p in partitions]
consumer.assign(tps)
consumer.seek_to_beginning(*tps)
ends = consumer.end_offsets(tps)
total = sum(ends.values())
seen = []
for msg in consumer:
    seen.append((msg.partition, msg.offset, msg.key.decode(), msg.value.decode()))
    if len(seen) >= total:
        break
consumer.close()
values = sorted(int(v.split("-")[1]) for _, _, _, v in seen)
if values != list(range(count)):
    sys.exit("expected values 0..%d once each, got %d values (log holds %d)" % (count - 1, len(values), total))
for p in partitions:
    offsets = [o for q, o, _, _ in seen if q == p]
    if offsets != list(range(len(offsets))):
        sys.exit("partition %d offsets are not dense from 0" % p)
print("ok %d" % len(seen))
