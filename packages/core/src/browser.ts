// The `browser` export condition of @tollgate/core resolves here: a frontend bundle that imports Tollgate fails on
// load, before any code could send a provider key to a visitor's machine.
import { BrowserEnvironmentError } from "./errors/browser-environment-error";
import { browserEnvironmentMessage } from "./guard/browser-environment";

throw new BrowserEnvironmentError(browserEnvironmentMessage);
