/** `serve`: arrives with the routing server. */
import { UsageError } from "./exit.ts";

export function serve(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("serve is not available yet"));
}
