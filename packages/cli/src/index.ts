export { runDemo } from "./demo";
