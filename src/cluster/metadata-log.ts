/**
 * The controller's append-only metadata log, `<dataDir>/metadata/metadata.log`, in the
 * spirit of KRaft's `__cluster_metadata`: every change to cluster metadata is one record,
 * and the state is rebuilt by replaying them in order at start.
 *
 * File format, one frame per record:
 * ```
 * uint32 length of payload | uint32 CRC-32C of payload | payload (UTF-8 JSON of a MetadataRecord)
 * ```
 * A torn or corrupt tail (a crash mid-write) is cut back to the last whole, valid frame on
 * open, and what was cut is logged. Lives on the main thread; not thread-safe.
 */
import fs from 'node:fs'
import path from 'node:path'
import { crc32c } from '../records/crc32c.js'
import type { MetadataRecord } from './metadata-records.js'

const FRAME_HEADER = 8

/** Where a warning about a cut tail goes. */
export interface MetadataLogLogger {
  warn(message: string): void
}

/** Append-only, CRC-framed log of {@link MetadataRecord}s. */
export class MetadataLog {
  private fd: number
  private position: number

  private constructor(readonly file: string, fd: number, position: number) {
    this.fd = fd
    this.position = position
  }

  /**
   * Opens (or creates) the log in `dir` and returns it with every valid record in order.
   * @param fsyncEachAppend - fsync after each append (metadata changes are rare and must survive a crash)
   */
  static open(dir: string, logger: MetadataLogLogger = { warn: (m) => process.stderr.write(`${m}\n`) }): { log: MetadataLog; records: MetadataRecord[] } {
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, 'metadata.log')
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT)
    const data = fs.readFileSync(file)
    const records: MetadataRecord[] = []
    let pos = 0
    while (pos + FRAME_HEADER <= data.length) {
      const len = data.readUInt32BE(pos)
      const crc = data.readUInt32BE(pos + 4)
      if (pos + FRAME_HEADER + len > data.length) break
      const payload = data.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len)
      if (crc32c(payload) !== crc) break
      let record: MetadataRecord
      try {
        record = JSON.parse(payload.toString('utf8')) as MetadataRecord
      } catch {
        break
      }
      records.push(record)
      pos += FRAME_HEADER + len
    }
    if (pos < data.length) {
      logger.warn(`metadata log ${file}: cut ${data.length - pos} bytes of torn or corrupt tail at position ${pos}`)
      fs.ftruncateSync(fd, pos)
      fs.fsyncSync(fd)
    }
    return { log: new MetadataLog(file, fd, pos), records }
  }

  /** Appends records durably (fsync): the controller acknowledges a change only after this. */
  append(records: readonly MetadataRecord[]): void {
    if (records.length === 0) return
    const frames = records.map((r) => {
      const payload = Buffer.from(JSON.stringify(r), 'utf8')
      const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length)
      frame.writeUInt32BE(payload.length, 0)
      frame.writeUInt32BE(crc32c(payload), 4)
      payload.copy(frame, FRAME_HEADER)
      return frame
    })
    const all = Buffer.concat(frames)
    fs.writeSync(this.fd, all, 0, all.length, this.position)
    fs.fsyncSync(this.fd)
    this.position += all.length
  }

  /** Size of the log in bytes. */
  get size(): number {
    return this.position
  }

  /** Closes the file. */
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }
}
