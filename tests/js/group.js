// group.js BOOTSTRAP: two kafkajs 2.2.4 consumers in one group against
// rill-broker, used by tests/integration/0104-kafkajs-group.sh.
//
//   1. a 4-partition topic; consumers A and B join group 'js-g' (the
//      broker's coordinator, kafkajs' own JoinGroup/SyncGroup/Heartbeat and
//      its round-robin assignor); their latest assignments are disjoint and
//      cover all 4 partitions
//   2. 400 records are produced; together A and B consume each exactly once
//      (each message's offset is committed before the next is handled)
//   3. the committed offsets (Admin fetchOffsets) are 100 per partition
//   4. both disconnect (LeaveGroup); 40 more records; a restarted consumer of
//      the group reads exactly those 40 (the commits are where it resumes)
// Exits non-zero with a reason on any difference; every wait is bounded.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const bootstrap = process.argv[2];
const TOPIC = 'js-group';
const GROUP = 'js-g';
const NPART = 4;
const N = 400;
const MORE = 40;

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, limitMs, pred) {
  const deadline = Date.now() + limitMs;
  while (!pred()) {
    if (Date.now() > deadline) fail('timed out after ' + limitMs + ' ms waiting for ' + what);
    await sleep(50);
  }
}

const kafka = new Kafka({
  clientId: 'rill-itest-js-group',
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  connectionTimeout: 10000,
  requestTimeout: 20000,
  retry: { retries: 5 },
});

// A group member that records its latest assignment and every value it read.
function member(name) {
  const m = { name, assigned: null, seen: [] };
  m.consumer = kafka.consumer({
    groupId: GROUP,
    sessionTimeout: 6000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
    retry: { retries: 5 },
  });
  m.consumer.on(m.consumer.events.GROUP_JOIN, (e) => {
    m.assigned = (e.payload.memberAssignment[TOPIC] || []).slice().sort();
  });
  m.start = async () => {
    await m.consumer.connect();
    await m.consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await m.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        m.seen.push(message.value.toString());
        await m.consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
  };
  return m;
}

async function produce(producer, from, to) {
  const messages = [];
  for (let i = from; i < to; i++)
    messages.push({ value: Buffer.from('v' + i), partition: i % NPART });
  await producer.send({ topic: TOPIC, acks: -1, messages });
}

function checkExactlyOnce(values, from, to) {
  const count = new Map();
  for (const v of values) count.set(v, (count.get(v) || 0) + 1);
  for (let i = from; i < to; i++) {
    const c = count.get('v' + i) || 0;
    if (c !== 1) fail('record v' + i + ' consumed ' + c + ' times');
  }
  if (values.length !== to - from)
    fail('consumed ' + values.length + ' records, expected ' + (to - from));
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: NPART }], waitForLeaders: true });

  // 1. two members join; their assignments partition the topic.
  const a = member('A');
  const b = member('B');
  await a.start();
  await waitFor('A to be assigned', 30000, () => a.assigned !== null && a.assigned.length === NPART);
  await b.start();
  const partitioned = () => {
    if (!a.assigned || !b.assigned || b.assigned.length === 0 || a.assigned.length === 0) return false;
    const all = a.assigned.concat(b.assigned).sort();
    return all.length === NPART && all.every((p, i) => p === i);
  };
  await waitFor('A and B to split the ' + NPART + ' partitions', 30000, partitioned);
  console.log('assignments: A=' + JSON.stringify(a.assigned) + ' B=' + JSON.stringify(b.assigned));

  // 2. every record is consumed exactly once across the two members.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let from = 0; from < N; from += 100) await produce(producer, from, from + 100);
  await waitFor('all ' + N + ' records to be consumed', 30000,
    () => a.seen.length + b.seen.length >= N);
  await sleep(500); // a duplicate would show up here
  if (!partitioned()) fail('the assignment changed while consuming');
  if (a.seen.length === 0 || b.seen.length === 0)
    fail('one member consumed nothing (A ' + a.seen.length + ', B ' + b.seen.length + ')');
  checkExactlyOnce(a.seen.concat(b.seen), 0, N);
  console.log('consumed: A ' + a.seen.length + ', B ' + b.seen.length);

  // 3. the committed offsets.
  const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  const parts = offsets[0].partitions;
  if (parts.length !== NPART) fail('fetchOffsets returned ' + parts.length + ' partitions');
  for (const p of parts)
    if (p.offset !== String(N / NPART))
      fail('partition ' + p.partition + ' committed ' + p.offset + ', expected ' + N / NPART);

  // 4. restart: the group resumes at the committed offsets.
  await a.consumer.disconnect();
  await b.consumer.disconnect();
  await produce(producer, N, N + MORE);
  await producer.disconnect();
  const c = member('C');
  await c.start();
  await waitFor('the restarted consumer to read ' + MORE + ' records', 30000, () => c.seen.length >= MORE);
  await sleep(500);
  checkExactlyOnce(c.seen, N, N + MORE);
  if (c.assigned.length !== NPART) fail('the restarted consumer owns ' + c.assigned.length + ' partitions');
  await c.consumer.disconnect();
  await admin.disconnect();
  console.log('ok');
}

const guard = setTimeout(() => fail('the whole test took over 100 s'), 100000);
main().then(() => { clearTimeout(guard); process.exit(0); },
  (e) => fail(e && e.stack ? e.stack : String(e)));
