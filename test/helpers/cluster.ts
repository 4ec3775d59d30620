/**
 * Test helpers that start a real cluster (worker threads, files in a temp dir) and
 * register their own cleanup.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { onTestFinished } from 'vitest'
import { Cluster, type ClusterOptions } from '../../src/client/cluster.js'

/** A fresh temp directory removed after the test. */
export function tempDir(prefix = 'shardlog-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A random topic name. */
export function topicName(prefix = 'topic'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Starts a cluster in a temp dir (2 shards unless told) and stops it after the test. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await Cluster.start({ shards: 2, dataDir: options.dataDir ?? tempDir(), ...options })
  onTestFinished(async () => { await cluster.stop() })
  return cluster
}

/** Creates a topic with a random name and `numPartitions` partitions (replication factor 1); returns its name. */
export async function createdTopic(cluster: Cluster, numPartitions = 1): Promise<string> {
  const topic = topicName()
  await cluster.admin().createTopics({ topics: [{ topic, numPartitions }] })
  return topic
}

/** Resolves when `predicate` holds, polling every 10 ms, or rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
