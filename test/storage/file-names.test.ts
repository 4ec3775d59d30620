import { describe, expect, it } from 'vitest'
import {
  deleteDirName, filenamePrefixFromOffset, isDeleteDirName, logFilePath, parsePartitionDirName, parseSegmentFileName,
  partitionDirName, validatePartition, validateTopicName,
} from '../../src/storage/file-names.js'

describe('storage > file-names > validateTopicName', () => {
  it('accepts Kafka\'s legal names up to 249 characters', () => {
    for (const name of ['a', 'orders', 'Orders.v2', 'my_topic-1', '__consumer_offsets', '...', 'x'.repeat(249), '-', '0']) {
      expect(() => validateTopicName(name)).not.toThrow()
    }
  })

  it('refuses empty, "." and "..", names over 249 characters and any other character, with INVALID_TOPIC_EXCEPTION', () => {
    const bad = ['', '.', '..', 'x'.repeat(250), 'a/b', '../etc', 'a\\b', 'with space', 'tab\t', 'ü', 'a:b', 'a*', 'nul\u0000']
    for (const name of bad) {
      expect(() => validateTopicName(name), name).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC_EXCEPTION', errorCode: 17 }))
    }
    expect(() => validateTopicName('x'.repeat(250))).toThrow(/longer than 249/)
    expect(() => validateTopicName('a/b')).toThrow(/other than ASCII alphanumerics/)
  })
})

describe('storage > file-names > partition directories', () => {
  it('joins and splits <topic>-<partition> at the last dash', () => {
    expect(partitionDirName('my-topic', 12)).toBe('my-topic-12')
    expect(parsePartitionDirName('my-topic-12')).toEqual({ topic: 'my-topic', partition: 12 })
    expect(parsePartitionDirName('a-0')).toEqual({ topic: 'a', partition: 0 })
    for (const name of ['nodash', '-3', 'topic-', 'topic-01', 'topic-x', 'bad topic-1', 'a-1.0123-delete']) {
      expect(parsePartitionDirName(name), name).toBeUndefined()
    }
  })

  it('refuses partitions that are not int32s >= 0', () => {
    for (const p of [-1, 1.5, 2 ** 31, Number.NaN]) expect(() => validatePartition(p)).toThrow(expect.objectContaining({ code: 'INVALID_PARTITIONS' }))
    expect(() => partitionDirName('t', -1)).toThrow(expect.objectContaining({ code: 'INVALID_PARTITIONS' }))
  })

  it('names removed partitions <topic>-<p>.<uuid>-delete as Kafka does', () => {
    const name = deleteDirName('t.x-y', 3, '123e4567-e89b-12d3-a456-426614174000')
    expect(name).toBe('t.x-y-3.123e4567e89b12d3a456426614174000-delete')
    expect(isDeleteDirName(name)).toBe(true)
    expect(isDeleteDirName('t-3')).toBe(false)
  })
})

describe('storage > file-names > segment files', () => {
  it('uses the 20-digit zero-padded base offset', () => {
    expect(filenamePrefixFromOffset(0)).toBe('00000000000000000000')
    expect(filenamePrefixFromOffset(1234567)).toBe('00000000000001234567')
    expect(filenamePrefixFromOffset(Number.MAX_SAFE_INTEGER)).toBe('00009007199254740991')
    expect(() => filenamePrefixFromOffset(-1)).toThrow(RangeError)
    expect(logFilePath('/d', 42, '.swap')).toBe('/d/00000000000000000042.log.swap')
  })

  it('parses segment file names with their kind and temp suffix', () => {
    expect(parseSegmentFileName('00000000000000000042.log')).toEqual({ baseOffset: 42, kind: 'log', suffix: '' })
    expect(parseSegmentFileName('00000000000000000042.timeindex.cleaned')).toEqual({ baseOffset: 42, kind: 'timeindex', suffix: '.cleaned' })
    expect(parseSegmentFileName('00000000000000000042.index.deleted')).toEqual({ baseOffset: 42, kind: 'index', suffix: '.deleted' })
    for (const name of ['42.log', '00000000000000000042.txt', '00000000000000000042.log.tmp', 'leader-epoch-checkpoint', '00000000000000000042.snapshot']) {
      expect(parseSegmentFileName(name), name).toBeUndefined()
    }
  })
})
