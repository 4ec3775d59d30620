/**
 * `codecs`: full-speed produce throughput with each codec (none, gzip, snappy, lz4, zstd) at
 * acks=1, and with no codec at acks=-1 (all in-sync replicas), using the throughput
 * benchmark's other settings. Next to each: RecordBatch encoding with that codec alone
 * (producer-sized batches, 4 at a time, no engine), the CPU limit of the producer's work.
 * Configurations take turns within each run so that machine noise falls on all alike.
 */
import { startBenchCluster } from './cluster-fixture.js'
import { baseProduceSettings, type SystemBenchOptions } from './options.js'
import { encodeOnly } from './raw-limits.js'
import type { CodecsResult, ProduceSettings } from './results.js'
import { sampleOf } from './stats.js'
import { benchProducerConfig, logFootprint, produceFor, recordValues } from './workload.js'

const kConfigs: Array<{ codec: ProduceSettings['compression']; acks: -1 | 1 }> = [
  { codec: 'none', acks: 1 },
  { codec: 'gzip', acks: 1 },
  { codec: 'snappy', acks: 1 },
  { codec: 'lz4', acks: 1 },
  { codec: 'zstd', acks: 1 },
  { codec: 'none', acks: -1 },
]

/** Runs the benchmark; see the module comment. */
export async function runCodecs(o: SystemBenchOptions): Promise<CodecsResult> {
  const { compression: _c, acks: _a, ...settings } = baseProduceSettings(o)
  const bench = await startBenchCluster({ shards: settings.shards })
  try {
    const values = recordValues()
    const recordsPerBatch = Math.max(1, Math.floor(settings.batchSize / (settings.recordBytes + 24)))
    const key = (c: { codec: string; acks: number }): string => `${c.codec}/${c.acks}`
    const rates = new Map<string, number[]>(kConfigs.map((c) => [key(c), []]))
    const encode = new Map<string, number[]>(kConfigs.map((c) => [key(c), []]))
    const diskPerRecord = new Map<string, number>()
    const measure = async (topic: string, codec: ProduceSettings['compression'], acks: -1 | 1, durationMs: number) => {
      const producer = bench.cluster.producer(benchProducerConfig({ ...settings, acks, compression: codec }))
      const outcome = await produceFor(producer, {
        topic, durationMs, messagesPerSend: settings.messagesPerSend, sendsInFlight: settings.sendsInFlight,
        partitioning: settings.partitioning, partitions: settings.partitions, values,
      })
      await producer.disconnect()
      return outcome
    }
    await bench.createTopic('warmup', settings.partitions)
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) await measure('warmup', codec, 1, 300)
    await bench.deleteTopic('warmup')

    for (let run = 0; run < o.runs; run++) {
      for (const c of kConfigs) {
        const topic = `codec-${c.codec}-${c.acks < 0 ? 'all' : c.acks}-${run}`
        await bench.createTopic(topic, settings.partitions)
        const outcome = await measure(topic, c.codec, c.acks, settings.durationMs)
        rates.get(key(c))!.push(outcome.records / (outcome.elapsedMs / 1000))
        diskPerRecord.set(key(c), logFootprint(bench.dataDir, topic).bytes / outcome.records)
        await bench.deleteTopic(topic)
        const alone = await encodeOnly(c.codec, values, recordsPerBatch, Math.min(1000, settings.durationMs / 2))
        encode.get(key(c))!.push(alone.records / (alone.elapsedMs / 1000))
        process.stderr.write(`  ${c.codec} acks=${c.acks} run ${run + 1}/${o.runs}: ${Math.round(rates.get(key(c))!.at(-1)!).toLocaleString('en-US')} records/s ` +
          `(encode alone ${Math.round(encode.get(key(c))!.at(-1)!).toLocaleString('en-US')} records/s)\n`)
      }
    }
    return {
      settings,
      rows: kConfigs.map((c) => {
        const r = rates.get(key(c))!
        return {
          codec: c.codec,
          acks: c.acks,
          recordsPerSec: sampleOf(r),
          mbPerSec: sampleOf(r.map((x) => (x * settings.recordBytes) / 1e6)),
          diskBytesPerRecord: diskPerRecord.get(key(c))!,
          encodeOnlyRecordsPerSec: sampleOf(encode.get(key(c))!),
        }
      }),
    }
  } finally {
    await bench.close()
  }
}
