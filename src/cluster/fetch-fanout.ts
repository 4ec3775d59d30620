/**
 * A fetch that spans partitions on several shards (of one or several brokers). Each shard
 * long-polls its own partitions; the first shard to answer with data (or an error) ends
 * the other shards' polls with WakeFetch, so the caller never waits out maxWaitMs while
 * data sits on another shard. Results come back in the caller's partition order.
 */
import type { ShardLink } from '../shard/shard-link.js'
import { ShardOp } from '../shard/shard-ops.js'
import { groupByOwner, inRequestOrder } from './partition-routing.js'
import { encodeFetchRequest, decodeFetchResult, type FetchPartitionRequest, type FetchPartitionResult } from '../shard/shard-codec.js'

/** Parameters of a fetch, as in Kafka's FetchRequest. */
export interface FetchParams {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolation: number
  /** Leave caught-up partitions out of the results (`FetchRequestPayload.incremental`). */
  incremental?: boolean
}

let nextWaitToken = 1

function takeToken(): number {
  const t = nextWaitToken
  nextWaitToken = nextWaitToken >= 0xffff_fff0 ? 1 : nextWaitToken + 1
  return t
}


/**
 * Fetches `partitions`, each routed by `shardOf`, with long polling across shards. The results
 * follow the order of `partitions`; with `incremental` the caught-up ones are left out.
 */
export async function fetchAcrossShards(
  params: FetchParams,
  partitions: readonly FetchPartitionRequest[],
  shardOf: (topic: string, partition: number) => ShardLink,
): Promise<FetchPartitionResult[]> {
  const byShard = groupByOwner(partitions, shardOf)
  if (byShard.size === 1) {
    const [[host, list]] = [...byShard]
    return decodeFetchResult(await host.request(ShardOp.Fetch, encodeFetchRequest({ ...params, waitToken: 0, partitions: list })))
  }
  const token = takeToken()
  const hosts = [...byShard.keys()]
  let woken = false
  const lists = await Promise.all([...byShard].map(async ([host, list]) => {
    const res = decodeFetchResult(await host.request(ShardOp.Fetch, encodeFetchRequest({ ...params, waitToken: token, partitions: list })))
    if (!woken && res.some((r) => r.records.length > 0 || r.errorCode !== 0)) {
      woken = true
      const wake = Buffer.allocUnsafe(4)
      wake.writeUInt32BE(token, 0)
      // A failed wake only means that shard answers at maxWaitMs instead; nothing is lost.
      for (const h of hosts) if (h !== host) h.request(ShardOp.WakeFetch, wake).catch(() => undefined)
    }
    return res
  }))
  return inRequestOrder(partitions, lists)
}
