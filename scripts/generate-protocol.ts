/**
 * Generates the Kafka protocol codecs in `src/protocol/messages/` from Apache Kafka's JSON
 * message schemas in `src/protocol/schemas/` (copies of Kafka's
 * `clients/src/main/resources/common/message/*.json`, Apache-2.0).
 *
 *   npm run gen:protocol              write the generated files
 *   npm run gen:protocol -- --check   exit 1 if the committed files are out of date
 *
 * What it understands (Kafka's generator README, `clients/src/main/resources/common/message/README.md`):
 * `validVersions`, `flexibleVersions` (compact strings/bytes/arrays and tagged-field
 * sections), `latestVersionUnstable`, per-field `versions`, `nullableVersions`,
 * `taggedVersions`/`tag`, a per-field `flexibleVersions` override (RequestHeader's ClientId),
 * `ignorable`, `default`, `commonStructs`, inline and shared structs, arrays of structs and
 * of primitives.
 *
 * What it writes: one module per API (`fetch.ts`) holding the request and response
 * interfaces and `encode<Name>(w, msg, version)` / `decode<Name>(r, version)` for both; one
 * module per header and consumer-protocol schema; and `index.ts`, a registry keyed by
 * {@link ApiKey}. The code is straight-line: one function per struct that tests the version
 * with integer comparisons, with no schema interpretation at run time.
 *
 * The model built here is exported for the tests, which use it to build random messages.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ApiKey } from '../src/protocol/api-keys.js'
import { advertisedVersions } from '../src/protocol/api-versions.js'

// ---------------------------------------------------------------------------------------
// Version ranges
// ---------------------------------------------------------------------------------------

/** The highest version number a schema can name (`"3+"` means 3..MAX_VERSION). */
export const MAX_VERSION = 0x7fff

/** An inclusive range of versions; empty when `min > max`. */
export interface VersionRange {
  readonly min: number
  readonly max: number
}

/** The empty range (`"none"`). */
export const NO_VERSIONS: VersionRange = { min: 1, max: 0 }

/** Parses Kafka's version syntax: `"3+"`, `"0-2"`, `"5"`, `"none"`. */
export function parseVersions(spec: string | undefined, what: string): VersionRange {
  if (spec === undefined || spec === 'none' || spec === '') return NO_VERSIONS
  let match = /^(\d+)\+$/.exec(spec)
  if (match) return { min: Number(match[1]), max: MAX_VERSION }
  match = /^(\d+)-(\d+)$/.exec(spec)
  if (match) return { min: Number(match[1]), max: Number(match[2]) }
  match = /^(\d+)$/.exec(spec)
  if (match) return { min: Number(match[1]), max: Number(match[1]) }
  throw new Error(`${what}: cannot parse versions ${JSON.stringify(spec)}`)
}

/** True for a range with no versions. */
export function isEmpty(range: VersionRange): boolean {
  return range.min > range.max
}

/** The versions in both ranges. */
export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  const min = Math.max(a.min, b.min)
  const max = Math.min(a.max, b.max)
  return min > max ? NO_VERSIONS : { min, max }
}

/** True when `version` lies in `range`. */
export function contains(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max
}

function hull(a: VersionRange, b: VersionRange): VersionRange {
  if (isEmpty(a)) return b
  if (isEmpty(b)) return a
  return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }
}

function covers(outer: VersionRange, inner: VersionRange): boolean {
  return isEmpty(inner) || (outer.min <= inner.min && outer.max >= inner.max)
}

function formatRange(range: VersionRange): string {
  if (isEmpty(range)) return 'none'
  if (range.max === MAX_VERSION) return `${range.min}+`
  return range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`
}

// ---------------------------------------------------------------------------------------
// Raw schema
// ---------------------------------------------------------------------------------------

/** A field exactly as it appears in a schema file. */
export interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  flexibleVersions?: string
  ignorable?: boolean
  default?: string | number | boolean
  about?: string
  fields?: RawField[]
  mapKey?: boolean
  entityType?: string
  zeroCopy?: boolean
}

/** A schema file's top level. */
export interface RawSchema {
  apiKey?: number
  type: 'request' | 'response' | 'header' | 'data'
  name: string
  validVersions: string
  flexibleVersions: string
  latestVersionUnstable?: boolean
  deprecatedVersions?: string
  fields: RawField[]
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[]
}

/** Reads a schema: JSON with whole-line `//` comments (the Apache license header among them). */
export function readSchema(path: string): RawSchema {
  const text = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => (/^\s*\/\//.test(line) ? '' : line))
    .join('\n')
  return JSON.parse(text) as RawSchema
}

// ---------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------

/** The schema's primitive type names. */
export type PrimitiveName =
  | 'bool' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float64'
  | 'string' | 'bytes' | 'records' | 'uuid'

const PRIMITIVES: ReadonlySet<string> = new Set<PrimitiveName>([
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid',
])

/** Encoded size of the fixed-size primitives. */
const FIXED_SIZE: Readonly<Partial<Record<PrimitiveName, number>>> = {
  bool: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, float64: 8, uuid: 16,
}

/** The type of a non-array field, or of an array's elements. */
export type ElementType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'struct'; readonly struct: StructModel }

/** A field's type: a primitive, a struct or an array of either. */
export type FieldType = ElementType | { readonly kind: 'array'; readonly element: ElementType }

/** A field's default value as a JS value (Kafka's `default`, or the type's zero value). */
export type DefaultValue =
  | { readonly kind: 'value'; readonly value: number | boolean | string | null }
  | { readonly kind: 'emptyBytes' }
  | { readonly kind: 'emptyArray' }
  | { readonly kind: 'absentStruct' }
  | { readonly kind: 'defaultStruct' }

/** One field of a struct, resolved. */
export interface FieldModel {
  readonly name: string
  /** The TypeScript property name: the schema name in camelCase. */
  readonly prop: string
  readonly type: FieldType
  /** The versions in which the field exists, clipped to the versions generated. */
  readonly versions: VersionRange
  readonly nullableVersions: VersionRange
  /** The versions in which the field is tagged (then equal to `versions`), or empty. */
  readonly taggedVersions: VersionRange
  readonly tag: number
  /** The versions in which this field uses the compact encoding. */
  readonly flexibleVersions: VersionRange
  readonly ignorable: boolean
  readonly defaultValue: DefaultValue
  readonly about: string | undefined
}

/** A struct: the message itself, an inline struct, or one of `commonStructs`. */
export interface StructModel {
  /** The TypeScript interface name (the schema's struct name). */
  readonly name: string
  /** The versions in which the struct can appear (the union of its uses). */
  context: VersionRange
  fields: FieldModel[]
  readonly about: string | undefined
}

/** One schema file, resolved. */
export interface MessageModel {
  readonly name: string
  readonly schemaFile: string
  readonly type: RawSchema['type']
  readonly apiKey: number | undefined
  readonly validVersions: VersionRange
  /** The versions that get code: `validVersions` minus an unstable, unadvertised top version. */
  readonly versions: VersionRange
  readonly flexibleVersions: VersionRange
  readonly root: StructModel
  /** Every struct of the message except the root, in first-use order. */
  readonly structs: StructModel[]
}

/** A request/response pair. */
export interface ApiModel {
  readonly apiKey: ApiKey
  /** The API name without suffix (`Fetch`), equal to the ApiKey member name. */
  readonly name: string
  /** The generated module, without extension (`fetch`). */
  readonly moduleName: string
  readonly request: MessageModel
  readonly response: MessageModel
}

/** Everything the generator knows. */
export interface ProtocolModel {
  readonly apis: ApiModel[]
  /** RequestHeader, ResponseHeader, ConsumerProtocolSubscription, ConsumerProtocolAssignment. */
  readonly others: MessageModel[]
}

function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

/** `OffsetForLeaderEpoch` -> `offset-for-leader-epoch`. */
export function kebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

function generatedVersions(schema: RawSchema, what: string): VersionRange {
  const valid = parseVersions(schema.validVersions, what)
  if (!schema.latestVersionUnstable) return valid
  // An unstable top version may still change shape in Kafka: generate it only if it is
  // advertised, which would be a mistake caught here.
  const advertised = schema.apiKey === undefined ? undefined : advertisedVersions(schema.apiKey)
  if (advertised !== undefined && advertised.maxVersion >= valid.max) {
    throw new Error(`${what}: advertises v${valid.max}, which Kafka marks latestVersionUnstable`)
  }
  return { min: valid.min, max: valid.max - 1 }
}

/** Builds the model of one schema, generating `versions` (defaults to the schema's own). */
export function buildMessage(schemaFile: string, schema: RawSchema, versions: VersionRange): MessageModel {
  const what = schema.name
  const flexible = parseVersions(schema.flexibleVersions, what)
  const common = new Map((schema.commonStructs ?? []).map((s) => [s.name, s.fields]))
  const rawByStruct = new Map<string, RawField[]>()
  const structs = new Map<string, StructModel>()
  const order: StructModel[] = []
  const root: StructModel = { name: schema.name, context: versions, fields: [], about: undefined }

  // Pass 1: find every struct and the union of the versions it is used in. A struct reached
  // again with a wider context is revisited, so nested structs see the final context.
  const visit = (fields: RawField[], context: VersionRange, path: string): void => {
    for (const raw of fields) {
      const present = intersect(parseVersions(raw.versions, `${path}.${raw.name}`), context)
      if (isEmpty(present)) continue
      const typeName = raw.type.startsWith('[]') ? raw.type.slice(2) : raw.type
      if (PRIMITIVES.has(typeName)) continue
      if (typeName.startsWith('[]')) throw new Error(`${path}.${raw.name}: nested arrays are not supported`)
      const structFields = raw.fields ?? common.get(typeName)
      if (structFields === undefined) throw new Error(`${path}.${raw.name}: unknown struct ${typeName}`)
      const known = rawByStruct.get(typeName)
      if (known !== undefined && known !== structFields) {
        throw new Error(`${what}: two different structs are named ${typeName}`)
      }
      rawByStruct.set(typeName, structFields)
      let struct = structs.get(typeName)
      if (struct === undefined) {
        struct = { name: typeName, context: present, fields: [], about: raw.about }
        structs.set(typeName, struct)
        order.push(struct)
      } else if (covers(struct.context, present)) {
        continue
      } else {
        struct.context = hull(struct.context, present)
      }
      visit(structFields, struct.context, `${path}.${raw.name}`)
    }
  }
  visit(schema.fields, versions, what)

  // Pass 2: resolve the fields of every struct against its final context.
  const resolve = (fields: RawField[], context: VersionRange, path: string): FieldModel[] => {
    const out: FieldModel[] = []
    const tags = new Set<number>()
    for (const raw of fields) {
      const where = `${path}.${raw.name}`
      const present = intersect(parseVersions(raw.versions, where), context)
      if (isEmpty(present)) continue
      const isArray = raw.type.startsWith('[]')
      const typeName = isArray ? raw.type.slice(2) : raw.type
      const element: ElementType = PRIMITIVES.has(typeName)
        ? { kind: 'primitive', name: typeName as PrimitiveName }
        : { kind: 'struct', struct: structs.get(typeName)! }
      const type: FieldType = isArray ? { kind: 'array', element } : element
      const tagged = intersect(parseVersions(raw.taggedVersions, where), present)
      if (raw.taggedVersions !== undefined) {
        if (raw.tag === undefined) throw new Error(`${where}: taggedVersions without tag`)
        if (tagged.min !== present.min || tagged.max !== present.max) {
          throw new Error(`${where}: a field tagged in only some of its versions is not supported`)
        }
        if (!covers(flexible, tagged)) throw new Error(`${where}: tagged outside flexibleVersions`)
        if (tags.has(raw.tag)) throw new Error(`${where}: duplicate tag ${raw.tag}`)
        tags.add(raw.tag)
      }
      const nullable = intersect(parseVersions(raw.nullableVersions, where), present)
      if (!isEmpty(nullable)) {
        const nullableKinds = type.kind === 'array' || (type.kind === 'primitive' && ['string', 'bytes', 'records'].includes(type.name))
        if (!nullableKinds) throw new Error(`${where}: ${raw.type} cannot be nullable`)
      }
      out.push({
        name: raw.name,
        prop: camelCase(raw.name),
        type,
        versions: present,
        nullableVersions: nullable,
        taggedVersions: raw.taggedVersions === undefined ? NO_VERSIONS : tagged,
        tag: raw.tag ?? -1,
        flexibleVersions: raw.flexibleVersions === undefined ? flexible : parseVersions(raw.flexibleVersions, where),
        ignorable: raw.ignorable === true,
        defaultValue: defaultOf(raw, type, nullable, raw.taggedVersions !== undefined, where),
        about: raw.about,
      })
    }
    const props = new Set<string>()
    for (const field of out) {
      if (props.has(field.prop)) throw new Error(`${path}: duplicate field ${field.prop}`)
      props.add(field.prop)
    }
    return out
  }
  root.fields = resolve(schema.fields, versions, what)
  for (const struct of order) struct.fields = resolve(rawByStruct.get(struct.name)!, struct.context, `${what}.${struct.name}`)

  return {
    name: schema.name,
    schemaFile,
    type: schema.type,
    apiKey: schema.apiKey,
    validVersions: parseVersions(schema.validVersions, what),
    versions,
    flexibleVersions: flexible,
    root,
    structs: order,
  }
}

function defaultOf(raw: RawField, type: FieldType, nullable: VersionRange, tagged: boolean, where: string): DefaultValue {
  const given = raw.default
  const isNull = given === 'null'
  if (isNull && isEmpty(nullable)) throw new Error(`${where}: default null on a non-nullable field`)
  if (type.kind === 'array') {
    if (given !== undefined && !isNull) throw new Error(`${where}: arrays take no default but null`)
    return isNull ? { kind: 'value', value: null } : { kind: 'emptyArray' }
  }
  if (type.kind === 'struct') {
    if (given !== undefined) throw new Error(`${where}: structs take no default`)
    return tagged ? { kind: 'absentStruct' } : { kind: 'defaultStruct' }
  }
  switch (type.name) {
    case 'bool':
      if (given === undefined) return { kind: 'value', value: false }
      if (given === true || given === 'true') return { kind: 'value', value: true }
      if (given === false || given === 'false') return { kind: 'value', value: false }
      throw new Error(`${where}: bad bool default ${JSON.stringify(given)}`)
    case 'int8': case 'int16': case 'uint16': case 'int32': case 'uint32': case 'int64': case 'float64': {
      if (given === undefined) return { kind: 'value', value: 0 }
      const text = String(given)
      const value = /^-0x/i.test(text) ? -Number(text.slice(1)) : Number(text)
      if (!Number.isFinite(value)) throw new Error(`${where}: bad numeric default ${JSON.stringify(given)}`)
      return { kind: 'value', value }
    }
    case 'string':
      if (isNull) return { kind: 'value', value: null }
      return { kind: 'value', value: given === undefined ? '' : String(given) }
    case 'bytes':
      if (given !== undefined && !isNull) throw new Error(`${where}: bytes take no default but null`)
      return isNull ? { kind: 'value', value: null } : { kind: 'emptyBytes' }
    case 'records':
      return { kind: 'value', value: null }
    case 'uuid':
      if (given !== undefined) throw new Error(`${where}: uuid defaults are not supported`)
      return { kind: 'value', value: 'AAAAAAAAAAAAAAAAAAAAAA' }
  }
}

/** Loads every schema in `schemaDir` and pairs requests with responses. */
export function buildProtocolModel(schemaDir: string): ProtocolModel {
  const files = readdirSync(schemaDir).filter((f) => f.endsWith('.json')).sort()
  const schemas = new Map(files.map((file) => [file, readSchema(join(schemaDir, file))]))
  const apis: ApiModel[] = []
  const others: MessageModel[] = []
  for (const [file, schema] of schemas) {
    if (schema.type === 'header' || schema.type === 'data') {
      others.push(buildMessage(file, schema, parseVersions(schema.validVersions, schema.name)))
      continue
    }
    if (schema.type !== 'request') continue
    const name = schema.name.replace(/Request$/, '')
    const responseFile = `${name}Response.json`
    const responseSchema = schemas.get(responseFile)
    if (responseSchema === undefined) throw new Error(`${file}: no ${responseFile}`)
    const apiKey = (ApiKey as unknown as Record<string, number>)[name]
    if (apiKey !== schema.apiKey || responseSchema.apiKey !== schema.apiKey) {
      throw new Error(`${file}: apiKey ${schema.apiKey} does not match ApiKey.${name} (${apiKey})`)
    }
    const versions = generatedVersions(schema, schema.name)
    const responseValid = parseVersions(responseSchema.validVersions, responseSchema.name)
    if (!covers(responseValid, versions)) throw new Error(`${responseFile}: validVersions narrower than the request's`)
    const advertised = advertisedVersions(apiKey)
    if (advertised !== undefined && (advertised.minVersion < versions.min || advertised.maxVersion > versions.max)) {
      throw new Error(`${name}: advertised ${advertised.minVersion}-${advertised.maxVersion} is outside generated ${formatRange(versions)}`)
    }
    apis.push({
      apiKey: apiKey as ApiKey,
      name,
      moduleName: kebabCase(name),
      request: buildMessage(file, schema, versions),
      response: buildMessage(responseFile, responseSchema, versions),
    })
  }
  const known = new Set(apis.map((api) => api.apiKey))
  for (const key of Object.values(ApiKey)) {
    if (typeof key === 'number' && !known.has(key)) throw new Error(`ApiKey ${ApiKey[key]} has no schema`)
  }
  apis.sort((a, b) => a.apiKey - b.apiKey)
  return { apis, others }
}

// ---------------------------------------------------------------------------------------
// Code generation helpers
// ---------------------------------------------------------------------------------------

/** The first line of every generated file. */
export const GENERATED_HEADER =
  "// generated by scripts/generate-protocol.ts from Apache Kafka's message schemas (Apache-2.0), do not edit"

const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'let',
  'static', 'yield', 'await', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'arguments',
  'eval', 'undefined', 'r', 'w', 'v', 'm', 'flex', 'tag', 'size', 'savedEnd', 'numTaggedFields', 'taggedCount', 'tw',
  'Reader', 'Writer', 'InvalidRequestError', 'UnsupportedVersionError', 'ZERO_UUID', 'EMPTY_BYTES',
])

function localName(prop: string): string {
  return RESERVED.has(prop) || /^[nai]\d+$/.test(prop) ? `${prop}_` : prop
}

/** A condition on `v` known at generation time (true/false) or a TS expression. */
type Cond = boolean | string

/** `range` as a condition on `v`, given that `v` is already known to lie in `context`. */
function versionCond(range: VersionRange, context: VersionRange): Cond {
  const r = intersect(range, context)
  if (isEmpty(r)) return false
  const parts: string[] = []
  if (r.min > context.min) parts.push(`v >= ${r.min}`)
  if (r.max < context.max) parts.push(`v <= ${r.max}`)
  if (parts.length === 0) return true
  return parts.join(' && ')
}

function and(a: Cond, b: Cond): Cond {
  if (a === false || b === false) return false
  if (a === true) return b
  if (b === true) return a
  return `${a} && ${b}`
}

function not(cond: Cond): Cond {
  if (typeof cond === 'boolean') return !cond
  return `!(${cond})`
}

/** Picks between two expressions on a condition. */
function choose(cond: Cond, yes: string, no: string): string {
  if (cond === true) return yes
  if (cond === false) return no
  return yes === no ? yes : `(${cond} ? ${yes} : ${no})`
}

function tsDoc(text: string | undefined, indent: string, extra: string[] = []): string[] {
  let about = text?.trim()
  if (about !== undefined && about !== '' && extra.length > 0 && !/[.!?]$/.test(about)) about += '.'
  const parts = [about, ...extra].filter((p): p is string => p !== undefined && p !== '')
  if (parts.length === 0) return []
  const body = parts.join(' ').replace(/\*\//g, '*\\/')
  return [`${indent}/** ${body} */`]
}

function elementTsType(element: ElementType): string {
  if (element.kind === 'struct') return element.struct.name
  switch (element.name) {
    case 'bool': return 'boolean'
    case 'string': case 'uuid': return 'string'
    case 'bytes': return 'Buffer'
    case 'records': return 'Buffer | null'
    default: return 'number'
  }
}

function fieldTsType(field: FieldModel): string {
  const nullable = !isEmpty(field.nullableVersions)
  const { type } = field
  if (type.kind === 'array') {
    const inner = elementTsType(type.element)
    const arr = inner.includes(' ') ? `(${inner})[]` : `${inner}[]`
    return nullable ? `${arr} | null` : arr
  }
  const base = elementTsType(type)
  if (type.kind === 'primitive' && type.name === 'records') return base
  return nullable ? `${base} | null` : base
}

function defaultLiteral(field: FieldModel): string {
  const d = field.defaultValue
  switch (d.kind) {
    case 'value':
      if (d.value === null) return 'null'
      if (typeof d.value === 'string') return d.value === 'AAAAAAAAAAAAAAAAAAAAAA' && isUuid(field) ? 'ZERO_UUID' : quote(d.value)
      return String(d.value)
    case 'emptyBytes': return 'EMPTY_BYTES'
    case 'emptyArray': return '[]'
    case 'absentStruct': return 'undefined'
    case 'defaultStruct': return `default${(field.type as { struct: StructModel }).struct.name}()`
  }
}

function isUuid(field: FieldModel): boolean {
  return field.type.kind === 'primitive' && field.type.name === 'uuid'
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/**
 * A TS expression that is true when `value` (known not to be undefined) differs from the
 * field's default, as Kafka's generated `write()` tests it; `true` when any value counts.
 */
function notDefault(field: FieldModel, value: string): Cond {
  const d = field.defaultValue
  const nullable = !isEmpty(field.nullableVersions)
  switch (d.kind) {
    case 'value':
      if (d.value === null) return `${value} !== null`
      return `${value} !== ${defaultLiteral(field)}`
    case 'emptyBytes':
    case 'emptyArray':
      return nullable ? `(${value} === null || ${value}.length !== 0)` : `${value}.length !== 0`
    case 'absentStruct':
    case 'defaultStruct':
      return true
  }
}

/** The smallest encoded size of a struct at version `v`. */
function structMinSize(struct: StructModel, flexible: VersionRange, v: number): number {
  let size = contains(flexible, v) ? 1 : 0
  for (const field of struct.fields) {
    if (!contains(field.versions, v) || contains(field.taggedVersions, v)) continue
    size += typeMinSize(field.type, contains(field.flexibleVersions, v), flexible, v)
  }
  return size
}

function typeMinSize(type: FieldType, flex: boolean, flexible: VersionRange, v: number): number {
  if (type.kind === 'array') return flex ? 1 : 4
  if (type.kind === 'struct') return structMinSize(type.struct, flexible, v)
  const fixed = FIXED_SIZE[type.name]
  if (fixed !== undefined) return fixed
  if (type.name === 'string') return flex ? 1 : 2
  return flex ? 1 : 4
}

/** Lower bound of an element's encoded size over the versions in `range` (at least 1). */
function elementMinSize(element: ElementType, range: VersionRange, flexible: VersionRange, flex: boolean): number {
  let min = Infinity
  for (let v = range.min; v <= range.max; v++) min = Math.min(min, typeMinSize(element, flex, flexible, v))
  return Math.max(1, min === Infinity ? 1 : min)
}

// ---------------------------------------------------------------------------------------
// Emitting one module
// ---------------------------------------------------------------------------------------

class Lines {
  readonly out: string[] = []
  private depth = 0
  line(text = ''): void {
    this.out.push(text === '' ? '' : '  '.repeat(this.depth) + text)
  }
  open(text: string): void {
    this.line(text)
    this.depth++
  }
  close(text = '}'): void {
    this.depth--
    this.line(text)
  }
  /** Closes one block and opens the next at the same depth (`} else {`). */
  reopen(text: string): void {
    this.depth--
    this.line(text)
    this.depth++
  }
}

/** Generates the code of one message (its interfaces, encoder and decoder). */
class MessageEmitter {
  private tmp = 0
  /** The flexibility condition declared as `const flex` in the function being emitted. */
  private structFlex: Cond = false

  constructor(private readonly message: MessageModel, private readonly lines: Lines) {}

  private fresh(prefix: string): string {
    return `${prefix}${this.tmp++}`
  }

  private fieldPath(struct: StructModel, field: FieldModel): string {
    return struct === this.message.root ? `${struct.name}.${field.prop}` : `${this.message.name} ${struct.name}.${field.prop}`
  }

  /** Whether `field` is compact within `within`, as a condition (using the `flex` local where it matches). */
  private flexCond(field: FieldModel, within: VersionRange): Cond {
    const cond = versionCond(field.flexibleVersions, within)
    return typeof cond === 'string' && cond === this.structFlex ? 'flex' : cond
  }

  /** `within` split into the versions where `field` is compact and where it is classic. */
  private splitFlex(field: FieldModel, within: VersionRange): { compact: VersionRange; classic: VersionRange } {
    const flexible = field.flexibleVersions
    const compact = intersect(within, flexible)
    const classic = isEmpty(flexible) ? within : intersect(within, { min: 0, max: flexible.min - 1 })
    return { compact, classic }
  }

  emitInterfaces(): void {
    const { lines } = this
    for (const struct of [this.message.root, ...this.message.structs]) {
      lines.line()
      const isRoot = struct === this.message.root
      const flexible = isEmpty(this.message.flexibleVersions) ? '' : ` (flexible from v${this.message.flexibleVersions.min})`
      const doc = isRoot ? `${this.message.name}, versions ${formatRange(this.message.versions)}${flexible}.` : struct.about
      for (const line of tsDoc(doc, '')) lines.line(line)
      lines.open(`export interface ${struct.name} {`)
      for (const field of struct.fields) {
        const notes: string[] = []
        if (!covers(field.versions, struct.context)) {
          const single = field.versions.min === field.versions.max
          notes.push(`${single ? 'Version' : 'Versions'} ${formatRange(field.versions)}.`)
        }
        if (!isEmpty(field.taggedVersions)) notes.push(`Tagged field ${field.tag}.`)
        if (!isEmpty(field.nullableVersions) && !covers(field.nullableVersions, field.versions)) {
          notes.push(`Nullable in ${formatRange(field.nullableVersions)}.`)
        }
        const def = defaultLiteral(field)
        if (!['undefined', '[]', 'EMPTY_BYTES', "''", '0', 'false'].includes(def)) {
          notes.push(`Default ${def === 'ZERO_UUID' ? 'the zero uuid' : def}.`)
        }
        for (const doc of tsDoc(field.about, '', notes)) lines.line(doc)
        const optional = isEmpty(field.taggedVersions) ? '' : '?'
        lines.line(`${field.prop}${optional}: ${fieldTsType(field)}`)
      }
      lines.close()
    }
  }

  emitCodecs(): void {
    const needsDefault = new Set<StructModel>()
    for (const struct of [this.message.root, ...this.message.structs]) {
      for (const field of struct.fields) {
        if (field.defaultValue.kind === 'defaultStruct' && field.type.kind === 'struct') needsDefault.add(field.type.struct)
      }
    }
    for (const struct of [this.message.root, ...this.message.structs]) {
      this.emitEncoder(struct)
      this.emitDecoder(struct)
      if (needsDefault.has(struct)) this.emitDefault(struct)
    }
  }

  private beginFunction(struct: StructModel, kind: 'encode' | 'decode'): void {
    const { lines } = this
    const isRoot = struct === this.message.root
    this.tmp = 0
    lines.line()
    const signature = kind === 'encode'
      ? `(w: Writer, m: ${struct.name}, v: number): void {`
      : `(r: Reader, v: number): ${struct.name} {`
    if (isRoot) {
      lines.line(kind === 'encode'
        ? `/** Encodes ${this.message.name} at version \`v\` (UNSUPPORTED_VERSION outside v${this.message.versions.min}-${this.message.versions.max}). */`
        : `/** Decodes ${this.message.name} at version \`v\`; bytes and records are views of the input, not copies. */`)
      lines.open(`export function ${kind}${struct.name}${signature}`)
      const { min, max } = this.message.versions
      lines.open(`if (v < ${min} || v > ${max}) {`)
      lines.line(`throw new UnsupportedVersionError(\`${this.message.name} v\${v} is not supported (v${min}-${max})\`)`)
      lines.close()
    } else {
      lines.open(`function ${kind === 'encode' ? 'write' : 'read'}${struct.name}${signature}`)
    }
    this.structFlex = versionCond(this.message.flexibleVersions, struct.context)
    if (typeof this.structFlex === 'string') lines.line(`const flex = ${this.structFlex}`)
  }

  private emitDefault(struct: StructModel): void {
    const { lines } = this
    lines.line()
    lines.open(`function default${struct.name}(): ${struct.name} {`)
    lines.open('return {')
    for (const field of struct.fields) lines.line(`${field.prop}: ${defaultLiteral(field)},`)
    lines.close('}')
    lines.close()
  }

  private unsupportedField(path: string, field: FieldModel): void {
    this.lines.line(`throw new UnsupportedVersionError(\`${path} is not supported in v\${v} (only ${formatRange(field.versions)})\`)`)
  }

  // ---- encoder -------------------------------------------------------------------------

  private emitEncoder(struct: StructModel): void {
    const { lines } = this
    const ctx = struct.context
    this.beginFunction(struct, 'encode')
    for (const field of struct.fields) {
      const value = `m.${field.prop}`
      const path = this.fieldPath(struct, field)
      if (!isEmpty(field.taggedVersions)) {
        // Written in the tagged section below; here only Kafka's check that a non-ignorable
        // field is not silently dropped by a version that lacks it.
        const absent = not(versionCond(field.taggedVersions, ctx))
        if (absent !== false && !field.ignorable) {
          const cond = and(and(absent, `${value} !== undefined`), notDefault(field, value))
          lines.open(`if (${cond}) {`)
          this.unsupportedField(path, field)
          lines.close()
        }
        continue
      }
      const present = versionCond(field.versions, ctx)
      const within = intersect(field.versions, ctx)
      if (present === true) {
        this.writeValue('w', field, value, within, path)
        continue
      }
      lines.open(`if (${present}) {`)
      this.writeValue('w', field, value, within, path)
      const nd = field.ignorable ? false : notDefault(field, value)
      if (nd !== false) {
        lines.reopen(nd === true ? '} else {' : `} else if (${nd}) {`)
        this.unsupportedField(path, field)
      }
      lines.close()
    }
    this.emitTaggedWrite(struct)
    lines.close()
  }

  private emitTaggedWrite(struct: StructModel): void {
    const { lines } = this
    if (this.structFlex === false) return
    const tagged = struct.fields.filter((f) => !isEmpty(f.taggedVersions)).sort((a, b) => a.tag - b.tag)
    const flexOpen = this.structFlex !== true
    if (flexOpen) lines.open('if (flex) {')
    if (tagged.length === 0) {
      lines.line('w.uvarint(0)')
    } else {
      const flexCtx = intersect(struct.context, this.message.flexibleVersions)
      const conds = tagged.map((field) => {
        const value = `m.${field.prop}`
        return and(and(versionCond(field.taggedVersions, flexCtx), `${value} !== undefined`), notDefault(field, value))
      })
      lines.line('let taggedCount = 0')
      tagged.forEach((_, i) => lines.line(`if (${conds[i]}) taggedCount++`))
      lines.line('w.uvarint(taggedCount)')
      tagged.forEach((field, i) => {
        lines.open(`if (${conds[i]}) {`)
        lines.line(`w.uvarint(${field.tag})`)
        const fixed = field.type.kind === 'primitive' ? FIXED_SIZE[field.type.name] : undefined
        const path = this.fieldPath(struct, field)
        if (fixed !== undefined) {
          lines.line(`w.uvarint(${fixed})`)
          this.writeValue('w', field, `m.${field.prop}`, field.taggedVersions, path)
        } else {
          // The size prefix comes first, so the value is built aside; tagged fields are rare.
          lines.line('const tw = new Writer(64)')
          this.writeValue('tw', field, `m.${field.prop}`, field.taggedVersions, path)
          lines.line('w.uvarint(tw.length)')
          lines.line('w.append(tw)')
        }
        lines.close()
      })
    }
    if (flexOpen) lines.close()
  }

  /** Emits statements writing `value` (the field's value) with writer `w`, for versions `within`. */
  private writeValue(w: string, field: FieldModel, value: string, within: VersionRange, path: string): void {
    const { lines } = this
    const type = field.type
    const flex = this.flexCond(field, within)
    const { compact, classic } = this.splitFlex(field, within)
    if (type.kind === 'struct') {
      lines.line(`write${type.struct.name}(${w}, ${value}, v)`)
      return
    }
    if (type.kind === 'primitive') {
      const name = type.name
      if (name !== 'string' && name !== 'bytes' && name !== 'records') {
        lines.line(`${w}.${name}(${value})`)
        return
      }
      const suffix = name === 'string' ? 'String' : 'Bytes'
      const typeMayBeNull = !isEmpty(field.nullableVersions) || name === 'records'
      const emitFor = (range: VersionRange, isCompact: boolean): void => {
        const nullCall = `${w}.${isCompact ? 'compactNullable' : 'nullable'}${suffix}(${value})`
        const plainCall = `${w}.${isCompact ? `compact${suffix}` : name === 'string' ? 'string' : 'bytes'}(${value})`
        const nullable = versionCond(field.nullableVersions, range)
        if (nullable === true) {
          lines.line(nullCall)
        } else if (nullable === false) {
          if (typeMayBeNull) this.nullGuard(value, path)
          lines.line(plainCall)
        } else {
          lines.open(`if (${nullable}) {`)
          lines.line(nullCall)
          lines.reopen('} else {')
          this.nullGuard(value, path)
          lines.line(plainCall)
          lines.close()
        }
      }
      this.branch(flex, () => emitFor(compact, true), () => emitFor(classic, false))
      return
    }
    // Arrays.
    const element = type.element
    const a = this.fresh('a')
    const i = this.fresh('i')
    lines.line(`const ${a} = ${value}`)
    const writeCount = (count: string): void => {
      this.branch(flex, () => lines.line(`${w}.compactArrayLength(${count})`), () => lines.line(`${w}.arrayLength(${count})`))
    }
    const writeItems = (): void => {
      writeCount(`${a}.length`)
      lines.open(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++) {`)
      if (element.kind === 'struct') {
        lines.line(`write${element.struct.name}(${w}, ${a}[${i}], v)`)
      } else if (element.name === 'string' || element.name === 'bytes') {
        const suffix = element.name === 'string' ? 'String' : 'Bytes'
        const classicCall = `${w}.${element.name}(${a}[${i}])`
        const compactCall = `${w}.compact${suffix}(${a}[${i}])`
        if (flex === true) lines.line(compactCall)
        else if (flex === false) lines.line(classicCall)
        else {
          lines.line(`if (${flex}) ${compactCall}`)
          lines.line(`else ${classicCall}`)
        }
      } else if (element.name === 'records') {
        throw new Error(`${path}: arrays of records are not supported`)
      } else {
        lines.line(`${w}.${element.name}(${a}[${i}])`)
      }
      lines.close()
    }
    if (isEmpty(field.nullableVersions)) {
      writeItems()
      return
    }
    lines.open(`if (${a} === null) {`)
    const nullable = versionCond(field.nullableVersions, within)
    if (nullable !== true) {
      const guard = nullable === false ? '' : `if (!(${nullable})) `
      lines.line(`${guard}throw new InvalidRequestError(\`${path} is null, which v\${v} does not allow\`)`)
    }
    writeCount('-1')
    lines.reopen('} else {')
    writeItems()
    lines.close()
  }

  private nullGuard(value: string, path: string): void {
    this.lines.line(`if (${value} === null) throw new InvalidRequestError(\`${path} is null, which v\${v} does not allow\`)`)
  }

  /** Emits `yes` or `no` code, or both under an if/else on `cond`. */
  private branch(cond: Cond, yes: () => void, no: () => void): void {
    if (cond === true) return yes()
    if (cond === false) return no()
    const { lines } = this
    lines.open(`if (${cond}) {`)
    yes()
    lines.reopen('} else {')
    no()
    lines.close()
  }

  // ---- decoder -------------------------------------------------------------------------

  private emitDecoder(struct: StructModel): void {
    const { lines } = this
    const ctx = struct.context
    this.beginFunction(struct, 'decode')
    for (const field of struct.fields) {
      const local = localName(field.prop)
      const tsType = fieldTsType(field)
      const path = this.fieldPath(struct, field)
      if (!isEmpty(field.taggedVersions)) {
        const type = field.defaultValue.kind === 'absentStruct' ? `${tsType} | undefined` : tsType
        lines.line(`let ${local}: ${type} = ${defaultLiteral(field)}`)
        continue
      }
      const present = versionCond(field.versions, ctx)
      const within = intersect(field.versions, ctx)
      if (present === true) {
        this.readInto(local, 'const', field, within, path)
      } else {
        lines.line(`let ${local}: ${tsType} = ${defaultLiteral(field)}`)
        lines.open(`if (${present}) {`)
        this.readInto(local, 'assign', field, within, path)
        lines.close()
      }
    }
    this.emitTaggedRead(struct)
    lines.open('return {')
    for (const field of struct.fields) {
      const local = localName(field.prop)
      lines.line(local === field.prop ? `${local},` : `${field.prop}: ${local},`)
    }
    lines.close('}')
    lines.close()
  }

  private emitTaggedRead(struct: StructModel): void {
    const { lines } = this
    if (this.structFlex === false) return
    const tagged = struct.fields.filter((f) => !isEmpty(f.taggedVersions)).sort((a, b) => a.tag - b.tag)
    const flexOpen = this.structFlex !== true
    if (flexOpen) lines.open('if (flex) {')
    if (tagged.length === 0) {
      lines.line('r.skipTaggedFields()')
    } else {
      const flexCtx = intersect(struct.context, this.message.flexibleVersions)
      lines.line('const numTaggedFields = r.uvarint()')
      lines.open('for (let t = 0; t < numTaggedFields; t++) {')
      lines.line('const tag = r.uvarint()')
      lines.line('const savedEnd = r.beginTaggedField(r.uvarint())')
      lines.open('switch (tag) {')
      for (const field of tagged) {
        lines.open(`case ${field.tag}: {`)
        const cond = versionCond(field.taggedVersions, flexCtx)
        const path = this.fieldPath(struct, field)
        // A tag that the version does not define is skipped like an unknown one.
        if (cond !== true) lines.open(`if (${cond}) {`)
        this.readInto(localName(field.prop), 'assign', field, field.taggedVersions, path)
        if (cond !== true) lines.close()
        lines.line('break')
        lines.close()
      }
      lines.close()
      lines.line('r.endTaggedField(savedEnd)')
      lines.close()
    }
    if (flexOpen) lines.close()
  }

  /** Emits statements that read a field (for versions `within`) into `local`, declared const or assigned. */
  private readInto(local: string, mode: 'const' | 'assign', field: FieldModel, within: VersionRange, path: string): void {
    const { lines } = this
    const type = field.type
    const target = mode === 'const' ? `const ${local}` : local
    if (type.kind !== 'array') {
      lines.line(`${target} = ${this.readExpr(type, field, within)}`)
      return
    }
    const element = type.element
    const n = this.fresh('n')
    const i = this.fresh('i')
    const a = this.fresh('a')
    const flex = this.flexCond(field, within)
    const { compact, classic } = this.splitFlex(field, within)
    const flexible = this.message.flexibleVersions
    const countExpr = choose(flex,
      `r.compactArrayLength(${elementMinSize(element, compact, flexible, true)})`,
      `r.arrayLength(${elementMinSize(element, classic, flexible, false)})`)
    lines.line(`const ${n} = ${countExpr}`)
    const elemType = elementTsType(element)
    const arrType = elemType.includes(' ') ? `(${elemType})[]` : `${elemType}[]`
    let elemRead: string
    if (element.kind === 'struct') elemRead = `read${element.struct.name}(r, v)`
    else if (element.name === 'string') elemRead = choose(flex, 'r.compactString()', 'r.string()')
    else if (element.name === 'bytes') elemRead = choose(flex, 'r.compactBytes()', 'r.bytes()')
    else if (element.name === 'records') throw new Error(`${path}: arrays of records are not supported`)
    else elemRead = `r.${element.name}()`
    const readItems = (): void => {
      lines.line(`const ${a}: ${arrType} = []`)
      lines.line(`for (let ${i} = 0; ${i} < ${n}; ${i}++) ${a}.push(${elemRead})`)
    }
    const nullable = versionCond(field.nullableVersions, within)
    if (nullable === false) {
      lines.line(`if (${n} < 0) throw new InvalidRequestError(\`${path} is null, which v\${v} does not allow\`)`)
      readItems()
      lines.line(`${target} = ${a}`)
      return
    }
    if (mode === 'const') lines.line(`let ${local}: ${fieldTsType(field)}`)
    lines.open(`if (${n} < 0) {`)
    if (nullable !== true) {
      lines.line(`if (!(${nullable})) throw new InvalidRequestError(\`${path} is null, which v\${v} does not allow\`)`)
    }
    lines.line(`${local} = null`)
    lines.reopen('} else {')
    readItems()
    lines.line(`${local} = ${a}`)
    lines.close()
  }

  /** A TS expression reading the (non-array) value of `field` for versions `within`. */
  private readExpr(type: ElementType, field: FieldModel, within: VersionRange): string {
    if (type.kind === 'struct') return `read${type.struct.name}(r, v)`
    if (type.name !== 'string' && type.name !== 'bytes' && type.name !== 'records') return `r.${type.name}()`
    const suffix = type.name === 'string' ? 'String' : 'Bytes'
    const classicPlain = type.name === 'string' ? 'r.string()' : 'r.bytes()'
    const flex = this.flexCond(field, within)
    const { compact, classic } = this.splitFlex(field, within)
    const compactExpr = choose(versionCond(field.nullableVersions, compact), `r.compactNullable${suffix}()`, `r.compact${suffix}()`)
    const classicExpr = choose(versionCond(field.nullableVersions, classic), `r.nullable${suffix}()`, classicPlain)
    return choose(flex, compactExpr, classicExpr)
  }
}

// ---------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------

function sourceNote(messages: MessageModel[]): string[] {
  const files = messages.map((m) => `src/protocol/schemas/${m.schemaFile}`).join(', ')
  return [
    GENERATED_HEADER,
    '//',
    `// Source: ${files}, copied from Apache Kafka`,
    '// (clients/src/main/resources/common/message/, Apache License 2.0). This file is a derived',
    '// work of those schemas; see src/protocol/schemas/LICENSE-NOTICE.md.',
  ]
}

/** Structs whose layout never depends on the version leave `v` unused: name it `_v` then. */
function renameUnusedVersionParams(text: string): string {
  return text.replace(/^(function \w+\((?:w: Writer, m: \w+|r: Reader), )v(: number\): \w+ \{\n)([\s\S]*?)^\}$/gm,
    (whole, head: string, tail: string, body: string) => (/\bv\b/.test(body) ? whole : `${head}_v${tail}${body}}`))
}

/** Generates the text of one module holding the codecs of `messages`. */
export function generateModule(messages: MessageModel[]): string {
  const seen = new Set<string>()
  for (const message of messages) {
    for (const struct of [message.root, ...message.structs]) {
      if (seen.has(struct.name) || RESERVED.has(struct.name)) throw new Error(`${message.name}: struct name ${struct.name} collides`)
      seen.add(struct.name)
    }
  }
  const body = new Lines()
  for (const message of messages) {
    const emitter = new MessageEmitter(message, body)
    emitter.emitInterfaces()
    emitter.emitCodecs()
  }
  const text = renameUnusedVersionParams(body.out.join('\n'))
  const uses = (name: string): boolean => new RegExp(`\\b${name}\\b`).test(text)
  const head = sourceNote(messages)
  const errors = ['InvalidRequestError', 'UnsupportedVersionError'].filter(uses)
  if (errors.length > 0) head.push(`import { ${errors.join(', ')} } from '../../errors.js'`)
  head.push(uses('ZERO_UUID') ? `import { type Reader, ZERO_UUID } from '../reader.js'` : `import type { Reader } from '../reader.js'`)
  head.push(text.includes('new Writer(') ? `import { Writer } from '../writer.js'` : `import type { Writer } from '../writer.js'`)
  if (uses('EMPTY_BYTES')) {
    head.push('')
    head.push('/** Shared default for absent non-nullable bytes fields (zero length, so never written to). */')
    head.push('const EMPTY_BYTES = Buffer.alloc(0)')
  }
  return `${head.join('\n')}\n${text}\n`
}

/** Generates `index.ts`: the registry of every API's codecs, keyed by {@link ApiKey}. */
export function generateIndex(model: ProtocolModel): string {
  const out = sourceNote([]).slice(0, 1)
  out.push('//')
  out.push('// The registry of generated codecs: one entry per ApiKey with its generated version range,')
  out.push('// its request/response encoders and decoders, and its header versions.')
  out.push(`import { ApiKey } from '../api-keys.js'`)
  out.push(`import type { Reader } from '../reader.js'`)
  out.push(`import type { Writer } from '../writer.js'`)
  for (const api of model.apis) {
    const req = api.request.name
    const res = api.response.name
    out.push(`import {\n  decode${req}, decode${res}, encode${req}, encode${res},\n  type ${req}, type ${res},\n} from './${api.moduleName}.js'`)
  }
  out.push(`
/** The generated codecs of one API. \`Req\`/\`Res\` are the request and response body types. */
export interface ApiMessageCodec<Req, Res> {
  readonly apiKey: ApiKey
  /** The API name, equal to the ApiKey member name (\`Fetch\`). */
  readonly name: string
  /** The lowest version with generated code. */
  readonly minVersion: number
  /** The highest version with generated code (an unstable, unadvertised top version is left out). */
  readonly maxVersion: number
  /** The first flexible version (compact encodings, tagged fields), or -1 if there is none. */
  readonly firstFlexibleVersion: number
  encodeRequest(w: Writer, msg: Req, version: number): void
  decodeRequest(r: Reader, version: number): Req
  encodeResponse(w: Writer, msg: Res, version: number): void
  decodeResponse(r: Reader, version: number): Res
  /** Request header version for an API version: 2 when flexible, else 1. Valid beyond maxVersion too. */
  requestHeaderVersion(apiVersion: number): number
  /** Response header version: 1 when flexible, else 0; always 0 for ApiVersions (KIP-511). */
  responseHeaderVersion(apiVersion: number): number
}
`)
  out.push('/** The request body type of every API. */')
  out.push('export interface ApiRequests {')
  for (const api of model.apis) out.push(`  [ApiKey.${api.name}]: ${api.request.name}`)
  out.push('}')
  out.push('')
  out.push('/** The response body type of every API. */')
  out.push('export interface ApiResponses {')
  for (const api of model.apis) out.push(`  [ApiKey.${api.name}]: ${api.response.name}`)
  out.push('}')
  out.push('')
  out.push('/** The codec type of one API. */')
  out.push('export type ApiCodecFor<K extends ApiKey> = ApiMessageCodec<ApiRequests[K], ApiResponses[K]>')
  out.push('')
  out.push('/** Any API\'s codec (a union: narrow on `apiKey`, or go through {@link API_CODECS} with a known key). */')
  out.push('export type AnyApiCodec = { [K in ApiKey]: ApiCodecFor<K> }[ApiKey]')
  out.push('')
  out.push('const requestHeaderV1 = (): number => 1')
  out.push('const responseHeaderV0 = (): number => 0')
  out.push('')
  out.push('/** Every API\'s codecs, keyed by API key. */')
  out.push('export const API_CODECS: { readonly [K in ApiKey]: ApiCodecFor<K> } = {')
  for (const api of model.apis) {
    const flex = api.request.flexibleVersions
    if (api.response.flexibleVersions.min !== flex.min || api.response.flexibleVersions.max !== flex.max) {
      throw new Error(`${api.name}: request and response flexibleVersions differ`)
    }
    const first = isEmpty(flex) ? -1 : flex.min
    const reqHeader = first < 0 ? 'requestHeaderV1' : `(apiVersion: number): number => (apiVersion >= ${first} ? 2 : 1)`
    const resHeader = first < 0 || api.apiKey === ApiKey.ApiVersions
      ? 'responseHeaderV0'
      : `(apiVersion: number): number => (apiVersion >= ${first} ? 1 : 0)`
    out.push(`  [ApiKey.${api.name}]: {`)
    out.push(`    apiKey: ApiKey.${api.name},`)
    out.push(`    name: '${api.name}',`)
    out.push(`    minVersion: ${api.request.versions.min},`)
    out.push(`    maxVersion: ${api.request.versions.max},`)
    out.push(`    firstFlexibleVersion: ${first},`)
    out.push(`    encodeRequest: encode${api.request.name},`)
    out.push(`    decodeRequest: decode${api.request.name},`)
    out.push(`    encodeResponse: encode${api.response.name},`)
    out.push(`    decodeResponse: decode${api.response.name},`)
    out.push(`    requestHeaderVersion: ${reqHeader},`)
    out.push(`    responseHeaderVersion: ${resHeader},`)
    out.push('  },')
  }
  out.push('}')
  out.push('')
  out.push('const codecByKey: (AnyApiCodec | undefined)[] = []')
  out.push('for (const codec of Object.values(API_CODECS) as AnyApiCodec[]) codecByKey[codec.apiKey] = codec')
  out.push('')
  out.push('/** The codecs for an API key read off the wire, or undefined for a key shardlog does not know. */')
  out.push('export function apiCodec(apiKey: number): AnyApiCodec | undefined {')
  out.push('  return codecByKey[apiKey]')
  out.push('}')
  return `${out.join('\n')}\n`
}

/** Every generated file: module path (relative to `src/protocol/messages/`) -> text. */
export function generateAll(model: ProtocolModel): Map<string, string> {
  const files = new Map<string, string>()
  for (const api of model.apis) files.set(`${api.moduleName}.ts`, generateModule([api.request, api.response]))
  for (const message of model.others) files.set(`${kebabCase(message.name)}.ts`, generateModule([message]))
  files.set('index.ts', generateIndex(model))
  return files
}

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Where the schema copies live. */
export const SCHEMA_DIR = join(projectRoot, 'src', 'protocol', 'schemas')
/** Where the generated modules go. */
export const MESSAGES_DIR = join(projectRoot, 'src', 'protocol', 'messages')

function main(argv: readonly string[]): number {
  const check = argv.includes('--check')
  const files = generateAll(buildProtocolModel(SCHEMA_DIR))
  const stale: string[] = []
  if (!check) mkdirSync(MESSAGES_DIR, { recursive: true })
  for (const [name, text] of files) {
    const path = join(MESSAGES_DIR, name)
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined
    if (current === text) continue
    stale.push(name)
    if (!check) writeFileSync(path, text)
  }
  // Generated files whose schema is gone are removed (only files carrying the header).
  if (existsSync(MESSAGES_DIR)) {
    for (const name of readdirSync(MESSAGES_DIR)) {
      if (files.has(name) || !name.endsWith('.ts')) continue
      const path = join(MESSAGES_DIR, name)
      if (!readFileSync(path, 'utf8').startsWith(GENERATED_HEADER)) continue
      stale.push(name)
      if (!check) unlinkSync(path)
    }
  }
  if (check) {
    if (stale.length > 0) {
      process.stderr.write(`out of date (run npm run gen:protocol): ${stale.join(', ')}\n`)
      return 1
    }
    process.stdout.write(`${files.size} generated protocol files are up to date\n`)
    return 0
  }
  process.stdout.write(`wrote ${stale.length} of ${files.size} files in src/protocol/messages\n`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2))
}
