import { defineConfig } from "tsup";

export default defineConfig({
  // `browser.ts` is the `browser` export condition's entry: it only throws.
  entry: ["src/index.ts", "src/browser.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
});
