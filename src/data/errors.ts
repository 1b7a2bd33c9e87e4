// Data problems the user can fix: a label file, list, folder or image that is missing or
// malformed. The message is one line naming the file (and line) and what is wrong; the CLI
// exits 2 with it, like any other usage error. Data workers recognise it by its name.
import { UsageError } from '../commands/errors.ts';

export class DataError extends UsageError {
  override name = 'DataError';
}
