import { BlockList, isIP } from "node:net";

/**
 * The proxies whose `X-Forwarded-For` this server believes: exact addresses (`10.0.0.7`) or CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`). Anyone can send the header; only a proxy you run appends a true entry to it.
 */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.trim().split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (isIP(address) === 0) throw new Error(`Trusted proxy "${entry}" is not an IP address or CIDR range`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** `::ffff:127.0.0.1` (how a dual-stack socket reports an IPv4 peer) → `127.0.0.1`. */
function normalize(address: string): string {
  const trimmed = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return trusted.check(address, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The address a request came from, for the `ip` scope of the limits.
 *
 * The TCP peer is the truth. Only when the peer is a trusted proxy is `X-Forwarded-For` read, and then from the
 * right: each proxy appends the address it received the request from, so the rightmost entry that is not one of
 * your proxies is the client. Everything left of it was written by the client and is ignored, so a spoofed header
 * can neither pick another IP's counters nor mint fresh ones.
 */
export function clientAddress(
  peerAddress: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trusted: BlockList,
): string {
  let address = normalize(peerAddress ?? "");
  if (!isTrusted(address, trusted) || forwardedFor === undefined) return address;
  const hops = (typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(","))
    .split(",")
    .map(normalize)
    .filter((hop) => hop.length > 0);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index]!;
    // Not an address: a misconfigured proxy chain. Stop at the last address a trusted hop vouched for.
    if (isIP(hop) === 0) return address;
    address = hop;
    if (!isTrusted(hop, trusted)) return hop;
  }
  return address;
}
