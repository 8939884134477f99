# broker/: rill-broker, the bundled single-node Kafka-protocol broker.
# broker -> common only; inside: protocol, net -> log -> group -> txn -> server.
