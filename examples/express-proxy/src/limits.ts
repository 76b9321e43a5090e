import type { Limit } from "@tollgate/core";

/**
 * The limits of a public chat. Anonymous sessions are cheap to get (clear the cookie), so the `ip` limits are what
 * holds when someone scripts the endpoint; the `global` budget is the last line if they have many addresses.
 */
export const chatLimits: readonly Limit[] = [
  { id: "user-rpm", scope: "user", requests: 10, per: "1m" },
  { id: "user-parallel", scope: "user", concurrent: 2 },
  { id: "user-daily-usd", scope: "user", usd: 0.25, period: "day" },
  { id: "ip-rpm", scope: "ip", requests: 30, per: "1m" },
  { id: "ip-daily-usd", scope: "ip", usd: 1, period: "day" },
  { id: "daily-budget", scope: "global", usd: 50, period: "day" },
];
