/**
 * One member of a classic consumer group, as Kafka's `MemberMetadata`: its identity, timeouts,
 * the protocols it supports (in its order of preference), its current assignment, and the
 * JoinGroup/SyncGroup requests it has parked at the coordinator.
 *
 * Lives on the main thread inside a {@link GroupMetadata}; only the GroupCoordinator mutates it.
 */
import { UnknownServerError } from '../errors.js'
import type { JoinGroupResponse, SyncGroupResponse } from './coordinator-requests.js'

/** One entry of JoinGroup's `protocols`: an assignor name and the member's metadata for it. */
export interface JoinGroupProtocol {
  name: string
  metadata: Buffer
}

const EMPTY = Buffer.alloc(0)

/** Identity and timeouts a member registers with (JoinGroup's fields). */
export interface MemberMetadataInit {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  protocolType: string
  protocols: JoinGroupProtocol[]
}

/** A group member; see the file comment. */
export class MemberMetadata {
  /** Kafka's `<clientId>-<uuid>` (or `<group.instance.id>-<uuid>`); changes when a static member is replaced. */
  memberId: string
  /** `group.instance.id` of a static member (KIP-345), null for a dynamic one. */
  readonly groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  readonly protocolType: string
  /** Supported protocols in the member's order of preference. */
  supportedProtocols: JoinGroupProtocol[]
  /** The assignment the leader gave this member in the current generation (empty until then). */
  assignment: Buffer = EMPTY
  /** Resolves the member's parked JoinGroup; null when none is parked. */
  awaitingJoin: ((response: JoinGroupResponse) => void) | null = null
  /** Resolves the member's parked SyncGroup; null when none is parked. */
  awaitingSync: ((response: SyncGroupResponse) => void) | null = null
  /**
   * True from the member's first JoinGroup until that rebalance completes: such a member has no
   * id to heartbeat with yet, so it is expired by the new-member join timeout instead.
   */
  isNew = false
  /** The pending session (or new-member) expiration timer. */
  heartbeatTimer: ReturnType<typeof setTimeout> | null = null

  constructor(init: MemberMetadataInit) {
    this.memberId = init.memberId
    this.groupInstanceId = init.groupInstanceId
    this.clientId = init.clientId
    this.clientHost = init.clientHost
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs
    this.sessionTimeoutMs = init.sessionTimeoutMs
    this.protocolType = init.protocolType
    this.supportedProtocols = init.protocols
  }

  /** A member with a `group.instance.id`. */
  get isStaticMember(): boolean {
    return this.groupInstanceId !== null
  }

  /** Has a JoinGroup parked. */
  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null
  }

  /** Has a SyncGroup parked. */
  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null
  }

  /** Names of the supported protocols, in preference order. */
  protocolNames(): string[] {
    return this.supportedProtocols.map((p) => p.name)
  }

  /** The member's metadata for `protocolName` (its subscription, for consumers). */
  metadata(protocolName: string): Buffer {
    const p = this.supportedProtocols.find((q) => q.name === protocolName)
    if (p === undefined) {
      throw new UnknownServerError(`member ${this.memberId} does not support protocol ${protocolName}`)
    }
    return p.metadata
  }

  /** True if `protocols` are the same names with the same metadata in the same order. */
  matches(protocols: readonly JoinGroupProtocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false
    return protocols.every((p, i) => {
      const mine = this.supportedProtocols[i] as JoinGroupProtocol
      return p.name === mine.name && p.metadata.equals(mine.metadata)
    })
  }

  /** The member's vote: its most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.supportedProtocols.find((p) => candidates.has(p.name))
    if (choice === undefined) {
      throw new UnknownServerError(`member ${this.memberId} supports none of the candidate protocols ${[...candidates].join(', ')}`)
    }
    return choice.name
  }

  /**
   * Kafka's `hasSatisfiedHeartbeat` when an expiration timer fires (every heartbeat reschedules
   * the timer, so a firing timer means none came): a member parked in a rebalance counts as alive,
   * since it cannot heartbeat while it waits, except a new one, which only its join timeout expires.
   */
  isExemptFromExpiry(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync)
  }
}

/**
 * A JoinGroup response carrying only an error (Kafka's `JoinGroupResult(memberId, error)`):
 * generation -1, no protocol, no leader, no members.
 */
export function joinErrorResponse(memberId: string, errorCode: number): JoinGroupResponse {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  }
}

/** A SyncGroup response carrying only an error: no protocol and an empty assignment. */
export function syncErrorResponse(errorCode: number): SyncGroupResponse {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY }
}
