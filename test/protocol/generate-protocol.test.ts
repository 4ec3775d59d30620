import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  buildMessage, buildProtocolModel, GENERATED_HEADER, generateAll, MESSAGES_DIR, parseVersions, SCHEMA_DIR, type RawSchema,
} from '../../scripts/generate-protocol.js'

describe('protocol > generator', () => {
  it('has generated the committed files from the current schemas (npm run gen:protocol)', () => {
    const files = generateAll(buildProtocolModel(SCHEMA_DIR))
    const committed = readdirSync(MESSAGES_DIR).filter((f) => f.endsWith('.ts')).sort()
    expect(committed).toEqual([...files.keys()].sort())
    for (const [name, text] of files) {
      expect(readFileSync(join(MESSAGES_DIR, name), 'utf8'), name).toBe(text)
      expect(text.split('\n')[0]).toBe(GENERATED_HEADER)
    }
  })

  it('keeps the Apache license header in every schema copy', () => {
    const schemas = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))
    expect(schemas).toHaveLength(66)
    for (const file of schemas) {
      const text = readFileSync(join(SCHEMA_DIR, file), 'utf8')
      expect(text.startsWith('// Licensed to the Apache Software Foundation (ASF)'), file).toBe(true)
      expect(text).toContain('http://www.apache.org/licenses/LICENSE-2.0')
    }
  })

  it('parses Kafka version ranges', () => {
    expect(parseVersions('3+', 'x')).toEqual({ min: 3, max: 0x7fff })
    expect(parseVersions('0-2', 'x')).toEqual({ min: 0, max: 2 })
    expect(parseVersions('5', 'x')).toEqual({ min: 5, max: 5 })
    expect(parseVersions('none', 'x')).toEqual({ min: 1, max: 0 })
    expect(() => parseVersions('2-', 'x')).toThrow(/cannot parse/)
  })

  it('refuses schema constructs it cannot generate correctly', () => {
    const schema = (fields: RawSchema['fields'], flexibleVersions = '1+'): RawSchema =>
      ({ type: 'data', name: 'Test', validVersions: '0-2', flexibleVersions, fields })
    const all = { min: 0, max: 2 }
    expect(() => buildMessage('t.json', schema([{ name: 'A', type: 'int32', versions: '0+', taggedVersions: '0+', tag: 0 }]), all))
      .toThrow(/tagged outside flexibleVersions/)
    expect(() => buildMessage('t.json', schema([{ name: 'A', type: 'int32', versions: '0+', nullableVersions: '0+' }]), all))
      .toThrow(/cannot be nullable/)
    expect(() => buildMessage('t.json', schema([{ name: 'A', type: 'string', versions: '0+', default: 'null' }]), all))
      .toThrow(/default null on a non-nullable field/)
    expect(() => buildMessage('t.json', schema([{ name: 'A', type: '[]Missing', versions: '0+' }]), all))
      .toThrow(/unknown struct/)
    expect(() => buildMessage('t.json', schema([{ name: 'A', type: 'int32', versions: '1+', taggedVersions: '2+', tag: 0 }]), all))
      .toThrow(/only some of its versions/)
  })

  it('clips fields and structs to the generated versions', () => {
    const message = buildMessage('t.json', {
      type: 'data', name: 'Test', validVersions: '0-5', flexibleVersions: 'none',
      fields: [
        { name: 'Old', type: 'int8', versions: '0-1' },
        { name: 'New', type: '[]Item', versions: '4+', fields: [{ name: 'X', type: 'int16', versions: '0+' }] },
      ],
    }, { min: 0, max: 3 })
    expect(message.root.fields.map((f) => f.prop)).toEqual(['old'])
    expect(message.structs).toEqual([])
  })
})
