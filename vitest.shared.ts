import type { UserWorkspaceConfig } from "vitest/config";

/**
 * Workspace packages export a `source` condition that points at their TypeScript sources, so tests run
 * against `src/` without a build step. Node's own conditions follow; `browser` is deliberately absent,
 * since @tollgate/core's browser entry throws on import.
 */
const conditions = ["source", "module", "node", "development|production"];

export function sharedProjectConfig(name: string): UserWorkspaceConfig {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      name,
      environment: "node",
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "*.test.ts"],
      typecheck: { enabled: true, include: ["src/**/*.test-d.ts", "test/**/*.test-d.ts", "*.test-d.ts"] },
      testTimeout: 20_000,
      hookTimeout: 30_000,
    },
  };
}
