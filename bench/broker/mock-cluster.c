/* mock-cluster: librdkafka's in-memory mock broker in a process of its own, with topics created up front.
 *
 *   mock-cluster TOPIC:PARTITIONS ...   prints the bootstrap address on its first line, then serves until killed.
 *
 * The reference broker for bench/broker/run.sh: the same kload runs against it show what the client reaches
 * against a broker that does no I/O (no disk, no fsync; it keeps only the last few MB of each partition). The
 * mock has no controller, so Kafka's CreateTopics cannot make a topic with a chosen partition count there; the
 * topics are made here instead. Build: gcc -O2 -o mock-cluster mock-cluster.c -lrdkafka
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Quiet: the mock's own handle has no bootstrap servers, which librdkafka would otherwise warn about. */
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock-cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, 1);
    if (!cluster) {
        fprintf(stderr, "mock-cluster: no mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        char *colon = strchr(argv[i], ':');
        int partitions = colon ? atoi(colon + 1) : 0;
        if (!colon || partitions < 1) {
            fprintf(stderr, "usage: mock-cluster TOPIC:PARTITIONS ...\n");
            return 2;
        }
        *colon = '\0';
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster, argv[i], partitions, 1);
        if (e) {
            fprintf(stderr, "mock-cluster: %s: %s\n", argv[i], rd_kafka_err2str(e));
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    pause();
    return 0;
}
