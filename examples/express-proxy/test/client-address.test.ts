import { describe, expect, it } from "vitest";
import { clientAddress, trustedProxyList } from "../src/client-address";

describe("clientAddress", () => {
  const trusted = trustedProxyList(["10.0.0.0/8", "192.0.2.10", "fd00::/8"]);

  it("is the TCP peer when the peer is not a trusted proxy, whatever the header says", () => {
    expect(clientAddress("198.51.100.4", "203.0.113.9", trusted)).toBe("198.51.100.4");
    expect(clientAddress("::ffff:198.51.100.4", undefined, trusted)).toBe("198.51.100.4");
  });

  it("is the rightmost untrusted hop behind trusted proxies", () => {
    expect(clientAddress("192.0.2.10", "203.0.113.9", trusted)).toBe("203.0.113.9");
    expect(clientAddress("192.0.2.10", "1.1.1.1, 203.0.113.9", trusted)).toBe("203.0.113.9");
    // Two of your proxies in a row (a CDN edge in 10/8, then the load balancer).
    expect(clientAddress("192.0.2.10", "1.1.1.1, 203.0.113.9, 10.1.2.3", trusted)).toBe("203.0.113.9");
    expect(clientAddress("::ffff:10.0.0.5", ["1.1.1.1", "2001:db8::1"], trusted)).toBe("2001:db8::1");
    expect(clientAddress("fd00::1", "2001:db8::2", trusted)).toBe("2001:db8::2");
  });

  it("stops at the last trusted hop when the chain holds something that is not an address", () => {
    expect(clientAddress("192.0.2.10", "evil, 10.1.2.3", trusted)).toBe("10.1.2.3");
    expect(clientAddress("192.0.2.10", "", trusted)).toBe("192.0.2.10");
  });

  it("rejects a trusted proxy that is not an address", () => {
    expect(() => trustedProxyList(["proxy.internal"])).toThrow(/not an IP address/);
  });
});
