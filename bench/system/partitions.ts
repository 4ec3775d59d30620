/**
 * `partitions`: full-speed produce throughput into topics of 1, 10, 100 and 1,000 partitions
 * with the throughput benchmark's producer settings (null keys, so the sticky partitioner keeps
 * batches full however many partitions there are). The runs of each count are interleaved so
 * that load elsewhere on the machine falls on every count alike.
 */
import { startBenchCluster } from './cluster-fixture.js'
import { baseProduceSettings, type SystemBenchOptions } from './options.js'
import type { PartitionsResult } from './results.js'
import { sampleOf } from './stats.js'
import { benchProducerConfig, produceFor, recordValues } from './workload.js'

const kCounts = [1, 10, 100, 1000]

/** Runs the benchmark; see the module comment. */
export async function runPartitions(o: SystemBenchOptions): Promise<PartitionsResult> {
  const { partitions: _unused, ...settings } = baseProduceSettings(o)
  const bench = await startBenchCluster({ shards: settings.shards })
  try {
    const values = recordValues()
    const producerConfig = benchProducerConfig(settings)
    const measure = async (topic: string, partitions: number, durationMs: number): Promise<number> => {
      const producer = bench.cluster.producer(producerConfig)
      const outcome = await produceFor(producer, {
        topic, durationMs, messagesPerSend: settings.messagesPerSend, sendsInFlight: settings.sendsInFlight,
        partitioning: settings.partitioning, partitions, values,
      })
      await producer.disconnect()
      return outcome.records / (outcome.elapsedMs / 1000)
    }
    await bench.createTopic('warmup', 8)
    await measure('warmup', 8, Math.min(1000, settings.durationMs))
    await bench.deleteTopic('warmup')

    const rates = new Map<number, number[]>(kCounts.map((n) => [n, []]))
    for (let run = 0; run < o.runs; run++) {
      for (const partitions of kCounts) {
        const topic = `partitions-${partitions}-${run}`
        await bench.createTopic(topic, partitions)
        rates.get(partitions)!.push(await measure(topic, partitions, settings.durationMs))
        await bench.deleteTopic(topic)
        process.stderr.write(`  ${partitions} partitions, run ${run + 1}/${o.runs}: ${Math.round(rates.get(partitions)!.at(-1)!).toLocaleString('en-US')} records/s\n`)
      }
    }
    return {
      settings,
      rows: kCounts.map((partitions) => {
        const r = rates.get(partitions)!
        return { partitions, recordsPerSec: sampleOf(r), mbPerSec: sampleOf(r.map((x) => (x * settings.recordBytes) / 1e6)) }
      }),
    }
  } finally {
    await bench.close()
  }
}
