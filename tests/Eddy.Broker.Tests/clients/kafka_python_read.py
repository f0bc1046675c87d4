"""Reads partition 0 of a topic from its start to its end with python3-kafka (kafka-python, its own protocol code).

Usage: kafka_python_read.py BOOTSTRAP TOPIC. Prints 'OFFSET KEY VALUE' per record, then 'end OFFSET', and exits 0 once
the consumer's position reached the end offset; exits 1 if it did not within 20 seconds (a consumer stuck on a batch).
"""
import sys
import time
from kafka import KafkaConsumer, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
tp = TopicPartition(topic, 0)
consumer.assign([tp])
consumer.seek_to_beginning(tp)
end = consumer.end_offsets([tp])[tp]
deadline = time.time() + 20
while consumer.position(tp) < end:
    if time.time() > deadline:
        sys.exit("stuck at offset %d of %d" % (consumer.position(tp), end))
    for records in consumer.poll(timeout_ms=500).values():
        for r in records:
            print("%d %s %s" % (r.offset, r.key.decode(), r.value.decode()))
consumer.close()
print("end %d" % end)
