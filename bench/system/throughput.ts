/**
 * `throughput`: 100-byte records produced at full speed into 8 partitions (acks=1, no
 * compression, 2 shards), each run followed by a raw `fs.writeSync` of the same bytes in the
 * same-sized chunks to the same directory; then the last run's records consumed from the page
 * cache with `eachBatch` in fresh groups, each in a process of its own (see consume-process.ts)
 * with Node's default flags and with a larger young generation, each run followed by a raw
 * read of the same segment files and a decode-only pass over them.
 */
import { performance } from 'node:perf_hooks'
import path from 'node:path'
import { startBenchCluster } from './cluster-fixture.js'
import { consumeInProcessWithFlags, type ConsumeJob } from './consume-process.js'
import { baseProduceSettings, type SystemBenchOptions } from './options.js'
import { decodeOnly, rawRead, rawWrite } from './raw-limits.js'
import type { ProduceSettings, ThroughputResult } from './results.js'
import { sampleOf } from './stats.js'
import { benchProducerConfig, logFootprint, produceFor, recordValues, type LogFootprint } from './workload.js'

const kMB = 1e6

/** The Node flags of the tuned consume run: a 64 MiB young generation (Node's default is 16 MiB). */
const kConsumerNodeFlags: readonly string[] = ['--max-semi-space-size=64']

/** kafkajs's consumer defaults (maxBytes 10 MB, maxBytesPerPartition 1 MB), as users get them. */
const kConsumeConfig = { maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 }

/** Runs the benchmark; see the module comment. */
export async function runThroughput(o: SystemBenchOptions, settings: ProduceSettings = baseProduceSettings(o)): Promise<ThroughputResult> {
  const bench = await startBenchCluster({ shards: settings.shards })
  try {
    const values = recordValues()
    const producerConfig = benchProducerConfig(settings)
    const drive = (topic: string, durationMs: number) => ({
      topic, durationMs, messagesPerSend: settings.messagesPerSend, sendsInFlight: settings.sendsInFlight,
      partitioning: settings.partitioning, partitions: settings.partitions, values,
    })

    // Warmup: JIT, worker start-up, first segment files; not measured.
    await bench.createTopic('warmup', settings.partitions)
    const warm = bench.cluster.producer(producerConfig)
    await produceFor(warm, drive('warmup', Math.min(1000, settings.durationMs)))
    await warm.disconnect()
    await bench.deleteTopic('warmup')

    const produced = { records: [] as number[], mb: [] as number[], diskMb: [] as number[], rawMb: [] as number[], cores: [] as number[] }
    let last: { topic: string; records: number; footprint: LogFootprint } | undefined
    for (let run = 0; run < o.runs; run++) {
      const topic = `produce-${run}`
      await bench.createTopic(topic, settings.partitions)
      const producer = bench.cluster.producer(producerConfig)
      const outcome = await produceFor(producer, drive(topic, settings.durationMs))
      await producer.disconnect()
      const footprint = logFootprint(bench.dataDir, topic)
      const seconds = outcome.elapsedMs / 1000
      produced.records.push(outcome.records / seconds)
      produced.mb.push((outcome.records * settings.recordBytes) / seconds / kMB)
      produced.diskMb.push(footprint.bytes / seconds / kMB)
      produced.cores.push(outcome.cpuMs / outcome.elapsedMs)
      const raw = rawWrite(bench.dir, footprint.bytes, footprint.bytes / Math.max(1, footprint.batches), values[0])
      produced.rawMb.push(raw.bytes / (raw.elapsedMs / 1000) / kMB)
      // Keep only the last run's topic: its records are the consume benchmark's data.
      if (last) await bench.deleteTopic(last.topic)
      last = { topic, records: outcome.records, footprint }
      process.stderr.write(`  produce run ${run + 1}/${o.runs}: ${Math.round(produced.records.at(-1)!).toLocaleString('en-US')} records/s, raw write ${Math.round(produced.rawMb.at(-1)!)} MB/s\n`)
    }

    // The cluster stops here: each consume runs in a process of its own over the same data
    // directory (the segments stay in the page cache), once with Node's default young
    // generation and once with a larger one, the tuning the README recommends for consumers.
    await bench.stopCluster()
    const consumed = { records: [] as number[], mb: [] as number[], firstMs: [] as number[], cores: [] as number[], rawMb: [] as number[], rawRecords: [] as number[], decode: [] as number[] }
    const tuned = { records: [] as number[], cores: [] as number[] }
    const data = last!
    const recordsPerByte = data.records / data.footprint.bytes
    const job = (groupId: string): ConsumeJob => ({ dataDir: bench.dataDir, shards: settings.shards, topic: data.topic, records: data.records, groupId, config: kConsumeConfig })
    const resultFile = path.join(bench.dir, 'consume-result.json')
    for (let run = 0; run < o.runs; run++) {
      const started = performance.now()
      // Alternating which goes first keeps page-cache and machine drift out of the comparison.
      const order = run % 2 === 0 ? [false, true] : [true, false]
      for (const withTuning of order) {
        const outcome = await consumeInProcessWithFlags(job(`bench-consume-${run}-${withTuning ? 'tuned' : 'default'}`), withTuning ? kConsumerNodeFlags : [], resultFile)
        const seconds = outcome.elapsedMs / 1000
        if (withTuning) {
          tuned.records.push(outcome.records / seconds)
          tuned.cores.push(outcome.cpuMs / outcome.elapsedMs)
          continue
        }
        consumed.records.push(outcome.records / seconds)
        consumed.mb.push(outcome.bytes / seconds / kMB)
        consumed.firstMs.push(outcome.timeToFirstBatchMs)
        consumed.cores.push(outcome.cpuMs / outcome.elapsedMs)
      }
      const raw = rawRead(data.footprint.files)
      const rawSeconds = raw.elapsedMs / 1000
      consumed.rawMb.push(raw.bytes / rawSeconds / kMB)
      consumed.rawRecords.push((raw.bytes * recordsPerByte) / rawSeconds)
      const decoded = decodeOnly(data.footprint.files)
      consumed.decode.push(decoded.records / (decoded.elapsedMs / 1000))
      process.stderr.write(`  consume run ${run + 1}/${o.runs}: ${Math.round(consumed.records.at(-1)!).toLocaleString('en-US')} records/s, ` +
        `${Math.round(tuned.records.at(-1)!).toLocaleString('en-US')} with ${kConsumerNodeFlags.join(' ')} (${((performance.now() - started) / 1000).toFixed(1)} s with raw limits)\n`)
    }

    return {
      settings,
      produce: {
        recordsPerSec: sampleOf(produced.records),
        mbPerSec: sampleOf(produced.mb),
        diskMbPerSec: sampleOf(produced.diskMb),
        cpuCores: sampleOf(produced.cores),
        diskBytesPerRecord: data.footprint.bytes / data.records,
        batchBytes: data.footprint.bytes / Math.max(1, data.footprint.batches),
      },
      rawWrite: { mbPerSec: sampleOf(produced.rawMb) },
      consume: {
        recordsPerSec: sampleOf(consumed.records),
        mbPerSec: sampleOf(consumed.mb),
        timeToFirstBatchMs: sampleOf(consumed.firstMs),
        cpuCores: sampleOf(consumed.cores),
        records: data.records,
        ...kConsumeConfig,
      },
      consumeTuned: { nodeFlags: kConsumerNodeFlags, recordsPerSec: sampleOf(tuned.records), cpuCores: sampleOf(tuned.cores) },
      rawRead: { mbPerSec: sampleOf(consumed.rawMb), recordsPerSec: sampleOf(consumed.rawRecords) },
      decodeOnly: { recordsPerSec: sampleOf(consumed.decode) },
    }
  } finally {
    await bench.close()
  }
}
