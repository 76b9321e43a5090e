// The chat page. It only talks to this site's /api/chat: no provider key, no model name, no SDK in the browser.
// The session cookie (HttpOnly) identifies the visitor; the server decides model, output cap and limits.

const messageList = element("messages", HTMLOListElement);
const notice = element("notice", HTMLParagraphElement);
const composer = element("composer", HTMLFormElement);
const prompt = element("prompt", HTMLInputElement);
const sendButton = element("send", HTMLButtonElement);

/** @type {{ role: "user" | "assistant", content: string }[]} */
const history = [];

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  void send();
});

async function send() {
  const content = prompt.value.trim();
  if (content === "") return;
  notice.hidden = true;
  prompt.value = "";
  sendButton.disabled = true;
  const userBubble = addMessage("user", content);
  history.push({ role: "user", content });
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: history }),
    });
    if (!response.ok || response.body === null) {
      // Not sent: take the message back so it can be sent again later.
      history.pop();
      userBubble.remove();
      prompt.value = content;
      showNotice(await refusalText(response));
      return;
    }
    const assistantBubble = addMessage("assistant", "");
    const reply = await readReply(response.body, (text) => {
      assistantBubble.textContent += text;
    });
    history.push({ role: "assistant", content: reply.text });
    if (reply.error !== undefined) showNotice(reply.error);
  } catch {
    showNotice("Network error. Try again.");
  } finally {
    sendButton.disabled = false;
    prompt.focus();
  }
}

/**
 * Reads the server-sent events of /api/chat: `data: {"text"}` per piece, then `event: done` or `event: error`.
 * @param {ReadableStream<Uint8Array>} body
 * @param {(text: string) => void} onText
 * @returns {Promise<{ text: string, error: string | undefined }>}
 */
async function readReply(body, onText) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text, error: "The reply was cut off." };
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event.name === "done") return { text, error: undefined };
      if (event.name === "error") return { text, error: String(event.data.message ?? "The reply failed.") };
      if (typeof event.data.text === "string") {
        text += event.data.text;
        onText(event.data.text);
      }
    }
  }
}

/**
 * @param {string} block
 * @returns {{ name: string, data: Record<string, unknown> }}
 */
function parseEvent(block) {
  let name = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  try {
    return { name, data: JSON.parse(data) };
  } catch {
    return { name, data: {} };
  }
}

/**
 * What a refusal means to the visitor. A 429 says which kind of limit it was (`message`) and, in `Retry-After`
 * (seconds), when capacity comes back by itself; the page turns that into a wait a person can read.
 * @param {Response} response
 * @returns {Promise<string>}
 */
async function refusalText(response) {
  if (response.status === 429) {
    const body = await response.json().catch(() => ({}));
    const message = typeof body.message === "string" ? body.message : "You are sending messages too fast.";
    const seconds = Number(response.headers.get("retry-after"));
    return seconds > 0 ? `${message} Try again in ${formatWait(seconds)}.` : "You have used up your messages.";
  }
  if (response.status === 403) return "Chat is disabled for you.";
  if (response.status === 401) return "Your session has expired. Reload the page.";
  return `Something went wrong (${response.status}). Try again.`;
}

/**
 * `45 seconds`, `3 minutes`, `2 hours`: rounded up, so the visitor never comes back too early.
 * @param {number} seconds
 * @returns {string}
 */
function formatWait(seconds) {
  const [amount, unit] =
    seconds < 90
      ? [seconds, "second"]
      : seconds < 90 * 60
        ? [Math.ceil(seconds / 60), "minute"]
        : [Math.ceil(seconds / 3600), "hour"];
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/**
 * @param {"user" | "assistant"} role
 * @param {string} text
 * @returns {HTMLLIElement}
 */
function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  item.textContent = text; // never innerHTML: replies are untrusted text
  messageList.append(item);
  return item;
}

/** @param {string} text */
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
}

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function element(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`#${id} is missing`);
  return node;
}
