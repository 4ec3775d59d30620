/**
 * `shardlog demo`: starts an embedded cluster, creates a topic, produces and reads back
 * records, and shows where they live on disk — the quickest look at what shardlog does.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Command } from 'commander'
import { Cluster } from '../../client/cluster.js'

/** Runs the demo, writing to `out`. */
export async function runDemo(opts: { dataDir: string; records: number }, out: (line: string) => void): Promise<void> {
  const started = process.hrtime.bigint()
  const cluster = await Cluster.start({ dataDir: opts.dataDir, shards: 2 })
  out(`shardlog cluster started in ${Number(process.hrtime.bigint() - started) / 1e6} ms (data in ${cluster.dataDir})`)
  try {
    const admin = cluster.admin()
    const topic = 'demo-orders'
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] })
      out(`created topic ${topic} with 3 partitions`)
    }
    const producer = cluster.producer({ acks: -1, compression: 'lz4', lingerMs: 2 })
    const messages = Array.from({ length: opts.records }, (_, i) => ({ key: `customer-${i % 7}`, value: JSON.stringify({ order: i, amount: (i * 17) % 100 }) }))
    const results = await producer.send({ topic, messages })
    out(`produced ${messages.length} records: ${results.map((r) => `partition ${r.partition} @ offset ${r.baseOffset}`).join(', ')}`)

    const offsets = await admin.fetchTopicOffsets(topic)
    const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 100 })
    await consumer.subscribe({ topic, fromBeginning: true })
    let seen = 0
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (seen < 5) out(`  read partition ${partition} offset ${message.offset}: key=${message.key?.toString()} value=${message.value?.toString()}`)
          if (++seen === total) resolve()
        },
      })
    })
    await done
    await consumer.disconnect()
    out(`read back ${seen} records in total (the log holds ${total})`)
  } finally {
    await cluster.stop()
  }
  // Listed after the clean shutdown, when every index and checkpoint file is on disk.
  for (let p = 0; p < 3; p++) {
    const dir = path.join(cluster.dataDir, 'broker-0', `demo-orders-${p}`)
    const files = fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort()
    out(`${dir}: ${files.join(' ')}`)
  }
  out(`inspect a segment: npx shardlog dump-log ${path.join(cluster.dataDir, 'broker-0', 'demo-orders-0', '00000000000000000000.log')} --print-data`)
}

/** The `demo` command. */
export function demoCommand(): Command {
  return new Command('demo')
    .description('start an embedded cluster, produce and read back records, show the files on disk')
    .option('--data-dir <dir>', 'data directory (separate from the server\'s ./data)', './demo-data')
    .option('--records <n>', 'records to produce', '100')
    .action(async (o: { dataDir: string; records: string }) => {
      await runDemo({ dataDir: o.dataDir, records: Number(o.records) }, (l) => process.stdout.write(`${l}\n`))
    })
}
