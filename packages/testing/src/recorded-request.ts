import type { FakeOperation, FakeProviderName } from "./fake-rules";
import type { FakeUsage } from "./fake-usage";

/**
 * One request in the fake's log. The record is pushed when the request body has arrived and is updated in
 * place while the response is written, so read it after awaiting the SDK call (or `waitForIdle()` for aborts).
 */
export interface RecordedRequest {
  /** 1-based arrival number, restarting after `reset()`. */
  id: number;
  /** Epoch ms when the request arrived, from the fake's `clock`; the usage reports bucket requests by it. */
  time: number;
  provider: FakeProviderName;
  operation: FakeOperation;
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Query parameters, the `key` parameter redacted. */
  query: Record<string, string>;
  /** Parsed JSON body (the raw text if it was not JSON, `undefined` for an empty body). */
  body: unknown;
  /** Lower-cased headers, credentials and key-looking values replaced by `[redacted]`. */
  headers: Record<string, string>;
  model: string | undefined;
  stream: boolean;
  /** Status sent; 0 until the headers are written. */
  status: number;
  /**
   * The usage the fake reported on the wire, in normalised terms, once the event or body carrying the final
   * usage has been written. `undefined` if no usage was reported: `omitUsage`, an error, a stream cut or
   * aborted before its usage event, an OpenAI chat stream without `stream_options.include_usage`, token
   * counts, model listings and Gemini embeddings (which carry no usage). Fields a provider cannot express are
   * folded as the wire does (see the README), so this always equals what a parser of the wire would get.
   */
  usage: Required<FakeUsage> | undefined;
  /** SSE chunks (events) written, including the terminator and any malformed line; 0 for JSON responses. */
  chunksSent: number;
  /** The client closed the connection before the response finished (an abort the server noticed). */
  clientClosedEarly: boolean;
  /** The response was written in full. */
  completed: boolean;
}
