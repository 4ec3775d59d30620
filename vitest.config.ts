import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start worker threads and listeners; two cores are shared by them.
    pool: 'forks',
    maxWorkers: 2,
  },
})
