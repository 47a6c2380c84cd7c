/**
 * The disk cache of rewritten modules, in browser builds (this file replaces
 * `disk-cache.ts` there): a page has no disk to share between processes, so there is no
 * cache; rewrites are kept in memory only, by `RewriteCache`, for the page's lifetime.
 */
import { UsageError } from '../errors/index.ts';
import type { DiskCacheConfig, DiskCacheStats, RewriteStore } from './disk-cache.ts';
import type { BodyFacts } from '../compile/index.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';

export type { DiskCacheConfig, DiskCacheStats, RewriteStore } from './disk-cache.ts';

/** As in `disk-cache.ts`. */
export const DISK_CACHE_FORMAT = 2;
/** As in `disk-cache.ts`. */
export const DEFAULT_DISK_CACHE_BYTES = 512 * 1024 * 1024;

/** No cache directory in a browser. */
export function defaultCacheDir(): string | undefined {
  return undefined;
}

/** Refuses to be made: a browser has no disk cache. */
export class DiskRewriteCache implements RewriteStore {
  readonly config: DiskCacheConfig;
  readonly stats: DiskCacheStats = { hits: 0, misses: 0, corrupt: 0, written: 0, evicted: 0 };

  constructor(config: DiskCacheConfig) {
    this.config = config;
    throw new UsageError(`a disk cache (${config.dir}) needs a file system: none in a browser`);
  }

  load(_moduleBytes: Uint8Array, _options: RewriteOptions): RewrittenModule | undefined {
    return undefined;
  }

  facts(_moduleBytes: Uint8Array, _options: RewriteOptions): BodyFacts | undefined {
    return undefined;
  }

  store(_moduleBytes: Uint8Array, _options: RewriteOptions, _rewritten: RewrittenModule, _facts: BodyFacts): void {}
}
