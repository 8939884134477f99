// roundtrip.js BOOTSTRAP: kafkajs 2.2.4 produce + fetch round trip against
// rill-broker, used by tests/integration/0005-kafkajs.sh. Exits non-zero with
// a reason on any difference; every wait is bounded.
'use strict';
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const bootstrap = process.argv[2];
const N = 500;

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

async function main() {
  const kafka = new Kafka({
    clientId: 'rill-itest-js',
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    connectionTimeout: 10000,
    requestTimeout: 20000,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'js-events', numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent = [];
  const baseTs = Date.now() - 50000;
  for (let chunk = 0; chunk < N; chunk += 100) {
    const messages = [];
    for (let i = chunk; i < chunk + 100; i++) {
      const m = {
        key: i % 9 === 0 ? null : Buffer.from('k' + (i % 31)),
        value: Buffer.from('js value ' + i + ' ' + 'x'.repeat(i % 50)),
        partition: i % 2,
        timestamp: String(baseTs + i),
        headers: i % 4 === 0 ? { idx: Buffer.from(String(i)) } : undefined,
      };
      messages.push(m);
      sent.push(m);
    }
    const compression = chunk % 200 === 0 ? CompressionTypes.GZIP : CompressionTypes.None;
    await producer.send({ topic: 'js-events', acks: -1, compression, messages });
  }
  await producer.disconnect();

  // Fetch everything back with kafkajs' own Fetch request (v4+, record
  // batches decoded by kafkajs), partition by partition, without a consumer
  // group: this test is about produce and fetch, not the group coordinator.
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) =>
    String(s).includes('createCluster'));
  if (!createCluster) fail('kafkajs internals changed: no createCluster');
  const cluster = kafka[createCluster]({});
  await cluster.connect();
  await cluster.addTargetTopic('js-events');
  await cluster.refreshMetadata();
  const got = [];
  const deadline = Date.now() + 60000;
  for (const p of [0, 1]) {
    const meta = cluster.findTopicPartitionMetadata('js-events').find((m) => m.partitionId === p);
    if (!meta) fail(`no metadata for partition ${p}`);
    const broker = await cluster.findBroker({ nodeId: String(meta.leader) });
    let offset = 0;
    const want = sent.filter((m) => m.partition === p).length;
    while (offset < want) {
      if (Date.now() > deadline) fail(`partition ${p}: fetched ${offset} of ${want} within 60 s`);
      const resp = await broker.fetch({
        maxWaitTime: 100,
        topics: [{ topic: 'js-events', partitions: [{ partition: p, fetchOffset: String(offset), maxBytes: 65536 }] }],
      });
      const part = resp.responses[0].partitions[0];
      if (part.errorCode !== 0) fail(`partition ${p}: fetch error ${part.errorCode}`);
      if (Number(part.highWatermark) !== want) fail(`partition ${p}: high watermark ${part.highWatermark}, expected ${want}`);
      for (const message of part.messages) {
        if (Number(message.offset) < offset) continue; // a batch fetched from its start
        got.push({ partition: p, message });
        offset = Number(message.offset) + 1;
      }
    }
  }
  await cluster.disconnect();

  // Compare per partition, in order.
  for (const p of [0, 1]) {
    const want = sent.filter((m) => m.partition === p);
    const have = got.filter((g) => g.partition === p).map((g) => g.message);
    if (want.length !== have.length) fail(`partition ${p}: ${have.length} records, expected ${want.length}`);
    for (let i = 0; i < want.length; i++) {
      const w = want[i];
      const h = have[i];
      if (Number(h.offset) !== i) fail(`partition ${p}: record ${i} has offset ${h.offset}`);
      const keyOk = w.key === null ? h.key === null : h.key !== null && w.key.equals(h.key);
      if (!keyOk || !w.value.equals(h.value) || h.timestamp !== w.timestamp) {
        fail(`partition ${p} offset ${i} differs`);
      }
      const wantIdx = w.headers ? w.headers.idx.toString() : undefined;
      const haveIdx = h.headers && h.headers.idx ? h.headers.idx.toString() : undefined;
      if (wantIdx !== haveIdx) fail(`partition ${p} offset ${i}: headers differ`);
    }
  }
  console.log(`ok - kafkajs: ${N} records produced (acks=-1, gzip and none) and fetched back`);
}

main().catch((e) => fail(e.stack || String(e)));
