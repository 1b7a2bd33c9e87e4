// The errors a user can fix: bad arguments, config, data, checkpoint, or a backend that cannot
// load. Each is a UsageError, which the CLI reports as its message alone, on one line, and
// exits 2 with (commands/error-report.ts); any other error is mek's own fault and exits 1.
// A leaf module (it imports nothing), so library code can throw these without depending on
// the CLI.

/**
 * A problem with what the user asked for, not with mek. Thrown as is for bad arguments or a
 * request that cannot be met as written; the subclasses below name what else was wrong.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A config file or --set that is malformed or inconsistent: one line naming the file (and line) and the key. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

/**
 * A label file, list, folder or image that is missing or malformed: one line naming the file
 * (and line) and what is wrong. Data workers recognise it by its name (data/worker.ts).
 */
export class DataError extends UsageError {
  override name = 'DataError';
}

/** A checkpoint that cannot be used: one line naming the file and the problem. */
export class CheckpointError extends UsageError {
  override name = 'CheckpointError';
}

/** An explicitly requested backend that cannot be loaded; carries the reason. */
export class BackendError extends UsageError {
  override name = 'BackendError';
}
