export {
  type BucketSpec,
  type CounterStore,
  MAX_FAILURES_PER_KEY,
  type TakeResult,
  retryAfterSecs,
} from './counter-store.js';
export { MEMORY_STORE_MAX_KEYS, MemoryCounterStore, type MemoryCounterStoreOptions } from './memory-counter-store.js';
export { REDIS_COUNTER_PREFIX, RedisCounterStore } from './redis-counter-store.js';
export { clientKey } from './client-key.js';
export { HTTP_RATE_LIMITS, type RateLimitOptions, registerRateLimits } from './http-rate-limit.js';
export { LOGIN_THROTTLE_DEFAULTS, LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
