/**
 * Entry point of a codec pool thread (piscina calls the default export once per task).
 * Everything else lives in src/records/codec-pool.ts.
 */
export { handleCodecTask as default } from '../src/records/codec-pool.js'
