import type { ChatHandler } from "./chat-handler";
import { chatInstance } from "./instance";

// The deployable function as a Web-standard handler, `(Request, context?) => Promise<Response>`: Vercel, Netlify,
// and Node 20 through `node-adapter.ts`. The guard is created by the first invocation and reused while the instance
// is warm (see `instance.ts`); configuration comes from the environment (see the README).
const handler: ChatHandler = async (request, context) => (await chatInstance()).chat(request, context);

export default handler;
