/**
 * Random Kafka messages for the codec tests, built from the generator's model of the
 * schemas: for one message and version, an fast-check arbitrary of bodies that are valid at
 * that version (fields the version lacks hold their defaults, nulls only where the version
 * allows them, tagged fields present or absent), and the body a decoder must return for it.
 */
import fc from 'fast-check'
import {
  buildProtocolModel, contains, isEmpty, SCHEMA_DIR,
  type ElementType, type FieldModel, type MessageModel, type ProtocolModel, type StructModel,
} from '../../scripts/generate-protocol.js'

let cachedModel: ProtocolModel | undefined

/** The generator's model of the project's schema copies. */
export function protocolModel(): ProtocolModel {
  cachedModel ??= buildProtocolModel(SCHEMA_DIR)
  return cachedModel
}

type Body = Record<string, unknown>

/** The value a decoder returns for a field that is absent (or tagged and left out). */
export function defaultValue(field: FieldModel): unknown {
  const d = field.defaultValue
  switch (d.kind) {
    case 'value': return d.value
    case 'emptyBytes': return Buffer.alloc(0)
    case 'emptyArray': return []
    case 'absentStruct': return undefined
    case 'defaultStruct': {
      if (field.type.kind !== 'struct') throw new Error('defaultStruct on a non-struct')
      return Object.fromEntries(field.type.struct.fields.map((f) => [f.prop, defaultValue(f)]))
    }
  }
}

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a))
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 5 }))

function elementArb(element: ElementType, version: number, message: MessageModel): fc.Arbitrary<unknown> {
  if (element.kind === 'struct') return structArb(element.struct, version, message)
  switch (element.name) {
    case 'bool': return fc.boolean()
    case 'int8': return fc.integer({ min: -128, max: 127 })
    case 'int16': return fc.integer({ min: -32768, max: 32767 })
    case 'uint16': return fc.integer({ min: 0, max: 0xffff })
    case 'int32': return fc.integer({ min: -0x80000000, max: 0x7fffffff })
    case 'uint32': return fc.integer({ min: 0, max: 0xffffffff })
    case 'int64': return fc.oneof(fc.constant(-1), fc.maxSafeInteger(), fc.integer())
    case 'float64': return fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0))
    case 'string': return text
    case 'bytes': return bytes(24)
    // Large record sets exercise the writer's zero-copy path.
    case 'records': return fc.oneof(
      { arbitrary: bytes(40), weight: 5 },
      { arbitrary: fc.integer({ min: 2048, max: 2100 }).map((n) => Buffer.alloc(n, n & 0xff)), weight: 1 },
    )
    case 'uuid': return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString('base64url'))
  }
}

function fieldArb(field: FieldModel, version: number, message: MessageModel): fc.Arbitrary<unknown> {
  const base = field.type.kind === 'array'
    ? fc.array(elementArb(field.type.element, version, message), { maxLength: 3 })
    : elementArb(field.type, version, message)
  return contains(field.nullableVersions, version) || (field.type.kind === 'primitive' && field.type.name === 'records')
    ? fc.option(base, { nil: null, freq: 4 })
    : base
}

/** Bodies of `struct` valid at `version`. */
export function structArb(struct: StructModel, version: number, message: MessageModel): fc.Arbitrary<Body> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const field of struct.fields) {
    const tagged = contains(field.taggedVersions, version)
    if (!contains(field.versions, version)) {
      // Absent at this version: the encoder must not see anything but the default.
      model[field.prop] = fc.constant(isEmpty(field.taggedVersions) ? defaultValue(field) : undefined)
    } else if (tagged) {
      model[field.prop] = fc.option(fieldArb(field, version, message), { nil: undefined })
    } else {
      model[field.prop] = fieldArb(field, version, message)
    }
  }
  return fc.record(model) as fc.Arbitrary<Body>
}

/** What decoding the encoding of `body` must give: left-out tagged fields read back as their defaults. */
export function expectedDecode(struct: StructModel, body: Body): Body {
  const out: Body = {}
  for (const field of struct.fields) {
    let value = body[field.prop]
    if (value === undefined) value = defaultValue(field)
    if (value !== null && value !== undefined) {
      if (field.type.kind === 'struct') value = expectedDecode(field.type.struct, value as Body)
      else if (field.type.kind === 'array' && field.type.element.kind === 'struct') {
        const inner = field.type.element.struct
        value = (value as Body[]).map((item) => expectedDecode(inner, item))
      }
    }
    out[field.prop] = value
  }
  return out
}

/** Every version with generated code. */
export function versionsOf(message: MessageModel): number[] {
  const out: number[] = []
  for (let v = message.versions.min; v <= message.versions.max; v++) out.push(v)
  return out
}
