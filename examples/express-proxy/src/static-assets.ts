import { readFileSync } from "node:fs";

export interface StaticAsset {
  body: Buffer;
  contentType: string;
}

/**
 * Every file the page is made of, by URL path, read once at start-up. An explicit list rather than a static folder:
 * nothing lands on the web by being put next to the page (`public/tsconfig.json` stays private).
 */
export const staticAssets: ReadonlyMap<string, StaticAsset> = new Map(
  [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/app.js", "app.js", "text/javascript; charset=utf-8"],
    ["/style.css", "style.css", "text/css; charset=utf-8"],
  ].map(([path = "", file = "", contentType = ""]) => [
    path,
    { body: readFileSync(new URL(`../public/${file}`, import.meta.url)), contentType },
  ]),
);
