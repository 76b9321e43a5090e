import { createChatFromEnvironment } from "./chat-from-environment";
import { onFirstUse } from "./first-use";

/**
 * This function instance's one guard, created by the first invocation of any entry point (the Web `fetch` handler,
 * the Lambda handler) and reused by every invocation after it. Nothing runs at import, so a bad configuration fails
 * an invocation with a logged error (and the next one tries again) instead of the module load.
 */
export const chatInstance = onFirstUse(async () => createChatFromEnvironment());
