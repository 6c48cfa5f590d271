/** What a consumer, a settlement and a requeue share of one `amqpQueue()`. */
import type { Link } from './link.js'
import type { JobRecordStore } from './records.js'
import type { Topology } from './topology.js'

export interface ConsumerContext {
  readonly link: Link
  readonly store: JobRecordStore
  readonly topology: Topology
}
