/**
 * An in-process cluster over a fresh temporary data directory, for one system benchmark,
 * removed again by {@link BenchCluster.close}.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Cluster, type ClusterOptions } from '../../src/client/cluster.js'
import { collectWorkerProfiles } from './cpu-profile.js'

/** A running cluster and the temporary directory it (and the raw-limit files) live in. */
export interface BenchCluster {
  cluster: Cluster
  /** The temporary directory: the cluster's data is under `data/`, raw-limit files go beside it. */
  dir: string
  /** The cluster's data directory. */
  dataDir: string
  /** Creates a topic with `partitions` partitions (replication factor 1) and optional topic configs. */
  createTopic(topic: string, partitions: number, configs?: Record<string, string>): Promise<void>
  /** Deletes a topic, freeing its disk space and page cache for the next run. */
  deleteTopic(topic: string): Promise<void>
  /** Stops the cluster and keeps the directory (another process may open it next). */
  stopCluster(): Promise<void>
  /** Stops the cluster (unless stopped already) and removes the directory. */
  close(): Promise<void>
}

/** Starts a cluster (`shards` workers on one broker by default) in a new temporary directory. */
export async function startBenchCluster(options: Omit<ClusterOptions, 'dataDir'> = {}): Promise<BenchCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-'))
  const dataDir = path.join(dir, 'data')
  let cluster: Cluster
  try {
    cluster = await Cluster.start({ ...options, dataDir })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const admin = cluster.admin()
  let stopped = false
  const stopCluster = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    // A worker's profile can only be taken while it runs (no-op unless profiling).
    await collectWorkerProfiles()
    await cluster.stop()
  }
  return {
    cluster,
    dir,
    dataDir,
    async createTopic(topic, partitions, configs = {}) {
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      })
    },
    async deleteTopic(topic) {
      await admin.deleteTopics({ topics: [topic] })
    },
    stopCluster,
    async close() {
      try {
        await stopCluster()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
